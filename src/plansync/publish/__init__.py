"""The published site: the plans as subscribable .ics feeds and an accessible agenda (`plansync publish`)."""
