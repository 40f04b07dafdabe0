<?php
// test.php as in the article: sendCURL and sendSock, then the four calls with hello => world!.
// The changes: the endpoint's URL comes from the command line (default the article's), and with a
// second argument "prefer" its curl asks for "Prefer: respond-async" (docs/php.md), one added line.
// Run: php tests/php/test.php http://127.0.0.1:8080/res.php [prefer]

$url = $argv[1] ?? 'http://127.0.0.1:8080/res.php';
$prefer = ($argv[2] ?? '') === 'prefer';

function sendCURL($method = 'get', $data = [])
{
    global $url, $prefer;
    $target = $url;
    $method = strtoupper($method);
    $query = http_build_query($data);

    if ($method == 'GET') {
        $target .= "?$query";
    }

    $ch = curl_init();
    curl_setopt($ch, CURLOPT_URL, $target);
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    curl_setopt($ch, CURLOPT_POSTFIELDS, $query);
    curl_setopt($ch, CURLOPT_TIMEOUT, 1);
    curl_setopt($ch, CURLOPT_POST, $method === 'POST');
    if ($prefer) curl_setopt($ch, CURLOPT_HTTPHEADER, ['Prefer: respond-async']);

    $response = curl_exec($ch);
    curl_close($ch);
}

function sendSock($method = 'get', $data = [])
{
    global $url;
    $parts = parse_url($url);
    $host = $parts['host'];
    $path = $parts['path'];
    $port = $parts['port'] ?? 80;

    $fp = fsockopen($host, $port, $errno, $errstr, 30);

    if (!$fp) {
        echo "$errstr ($errno)<br />\n";
    } else {

        $method = strtoupper($method);
        $content = http_build_query($data);

        if ($method === 'GET') {
            $path .= "?{$content}";
        }

        fwrite($fp, "{$method} {$path} HTTP/1.1\r\n");
        fwrite($fp, "Host: {$host}\r\n");
        fwrite($fp, "Content-Type: application/x-www-form-urlencoded\r\n");
        fwrite($fp, "Content-Length: " . strlen($content) . "\r\n");
        fwrite($fp, "Connection: close\r\n");
        fwrite($fp, "\r\n");

        fwrite($fp, $content);

        fclose($fp);
    }
}

sendCURL('get', ['hello' => 'world!']);

echo "\r\n\r\n";
sendCURL('post', ['hello' => 'world!']);

echo "\r\n\r\n";
sendSock('get', ['hello' => 'world!']);

echo "\r\n\r\n";
sendSock('post', ['hello' => 'world!']);
