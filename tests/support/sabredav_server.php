<?php
// A SabreDAV CalDAV server for the tests, run with `php -S 127.0.0.1:PORT sabredav_server.php`.
// Its SQLite file, its login scheme and its one user come from the environment the fixture sets:
// SABRE_DB (path), SABRE_AUTH (basic|digest), SABRE_USER, SABRE_PASSWORD, SABRE_LOG (request log);
// SABRE_PHP_WARNING=1 makes PHP print a warning before every answer (run with display_errors on).

date_default_timezone_set('UTC');
if (getenv('SABRE_PHP_WARNING')) {
    // A common misconfiguration: display_errors on, and a warning printed before the XML answer.
    $greeting = $undefined_setting_of_this_server;
}
set_error_handler(function ($no, $str, $file, $line) {
    if (error_reporting() & $no) {
        throw new ErrorException($str, 0, $no, $file, $line);
    }
    return true;
}, E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED);
require_once 'Sabre/autoload.php';

$user = getenv('SABRE_USER');
$password = getenv('SABRE_PASSWORD');
$realm = 'SabreDAV';
file_put_contents(getenv('SABRE_LOG'), $_SERVER['REQUEST_METHOD'] . ' ' . parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) . "\n", FILE_APPEND | LOCK_EX);

$path = getenv('SABRE_DB');
$fresh = !file_exists($path);
$pdo = new PDO('sqlite:' . $path);
$pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
if ($fresh) {
    $sql = '/usr/share/doc/php-sabre-dav/examples/sql/';
    foreach (array('sqlite.calendars.sql', 'sqlite.principals.sql', 'sqlite.users.sql') as $file) {
        // Only the CREATE TABLE statements: the examples' users and principals are not ours.
        foreach (explode(';', file_get_contents($sql . $file)) as $statement) {
            if (stripos(trim($statement), 'CREATE') === 0) {
                $pdo->exec($statement);
            }
        }
    }
    $pdo->prepare('INSERT INTO users (username, digesta1) VALUES (?, ?)')
        ->execute(array($user, md5("$user:$realm:$password")));
    foreach (array('', '/calendar-proxy-read', '/calendar-proxy-write') as $tail) {
        $pdo->prepare('INSERT INTO principals (uri) VALUES (?)')->execute(array("principals/$user$tail"));
    }
}

class TestBasicAuth extends \Sabre\DAV\Auth\Backend\AbstractBasic {
    protected function validateUserPass($username, $password) {
        return $username === getenv('SABRE_USER') && $password === getenv('SABRE_PASSWORD');
    }
}

$authBackend = getenv('SABRE_AUTH') === 'basic' ? new TestBasicAuth() : new \Sabre\DAV\Auth\Backend\PDO($pdo);
$principalBackend = new \Sabre\DAVACL\PrincipalBackend\PDO($pdo);
$calendarBackend = new \Sabre\CalDAV\Backend\PDO($pdo);
$server = new \Sabre\DAV\Server(array(
    new \Sabre\CalDAV\Principal\Collection($principalBackend),
    new \Sabre\CalDAV\CalendarRootNode($principalBackend, $calendarBackend),
));
$server->setBaseUri('/');
$server->addPlugin(new \Sabre\DAV\Auth\Plugin($authBackend, $realm));
$server->addPlugin(new \Sabre\DAVACL\Plugin());
$server->addPlugin(new \Sabre\CalDAV\Plugin());
$server->exec();
