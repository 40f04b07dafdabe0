<?php
// The article's res.php, answering "Prefer: respond-async" (RFC 7240) with 202 at once, then working.
$data = [];
$data['method'] = $_SERVER['REQUEST_METHOD'];
$data['data'] = $_REQUEST;

$async = preg_match('/(^|,)\s*respond-async\s*(;|,|$)/i', $_SERVER['HTTP_PREFER'] ?? '') === 1;
if ($async) {
    ignore_user_abort(true);                  // a caller that hangs up never stops the work
    http_response_code(202);
    header('Preference-Applied: respond-async');
    header('Content-Length: 0');
    header('Connection: close');
    if (function_exists('fastcgi_finish_request')) {
        fastcgi_finish_request();             // php-fpm: the answer goes now, the script goes on
    } else {
        while (ob_get_level() > 0) ob_end_flush();
        flush();                              // php -S, mod_php: the same
    }
}

sleep(5);

if ($async) {
    error_log(print_r($data, true));          // nobody waits for the answer: log it (or do the real work here)
} else {
    print_r($data);
}
