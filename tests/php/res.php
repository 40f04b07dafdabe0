<?php
// res.php as in the article, with two additions for the tests: RES_SLEEP (seconds to sleep, default 5
// as in the article) and RES_LOG (a file each print_r answer is also appended to).
$data = [];
$data['method'] = $_SERVER['REQUEST_METHOD'];
$data['data'] = $_REQUEST;

sleep((int) (getenv('RES_SLEEP') === false ? 5 : getenv('RES_SLEEP')));

print_r($data);
if (getenv('RES_LOG')) {
    file_put_contents(getenv('RES_LOG'), print_r($data, true), FILE_APPEND | LOCK_EX);
}
