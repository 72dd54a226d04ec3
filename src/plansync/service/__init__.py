"""The long-running service: the loop (`plansync serve`) and systemd notification."""
