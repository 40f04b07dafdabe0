<?php
// Writes tests/vectors.json: what PHP itself does, to check the Java port against.
// Run from the project: php tests/php/make-vectors.php > tests/vectors.json
// - http_build_query: PHP's output for each input (JSON decoded to PHP arrays).
// - requests: each raw request is sent to `php -S` serving res.php (RES_SLEEP=0), the answer is
//   recorded byte for byte with its status, and so is the number of warnings the server logged for it
//   (PHP logs the nesting warning twice; the Java port logs each warning once).
// Byte strings (queries, bodies, answers) are written one char per byte (ISO-8859-1) so nothing is lost.

const INI = ['request_order=GP', 'variables_order=GPCS', 'max_input_vars=1000', 'max_input_nesting_level=64',
             'post_max_size=8M', 'display_errors=0', 'log_errors=1', 'error_reporting=E_ALL'];

$builds = [
    ['flat', ['hello' => 'world!']],
    ['the four article fields', ['a' => '1', 'b' => 'two words', 'c' => '']],
    ['reserved characters', ['k' => "~*!'() &=+%#?/:;,@\$[]{}|\\^`\"<>"]],
    ['utf-8 key and value with newline', ['é' => "ü\n"]],
    ['cjk and emoji', ['名前' => '日本語 😀']],
    ['control characters', ['c' => "\t\r\x00\x01\x7f"]],
    ['nested maps', ['a' => ['b' => ['c' => '1']]]],
    ['list', ['a' => ['x', 'y', 'z']]],
    ['list of lists', ['l' => [1, [2, 3]]]],
    ['null left out', ['a' => null, 'b' => '1']],
    ['empty array left out', ['e' => [], 'f' => 'x']],
    ['booleans', ['t' => true, 'f' => false]],
    ['integers', ['i' => 42, 'n' => -7, 'z' => 0, 'big' => PHP_INT_MAX]],
    ['floats', ['a' => 1.5, 'b' => 0.1, 'c' => 1.0, 'd' => -0.0, 'e' => 0.1 + 0.2, 'f' => 12345.678]],
    ['float exponents', ['a' => 1e14, 'b' => 1e15, 'c' => 1e20, 'd' => 0.0001, 'e' => 0.00001, 'f' => -2.5e-10, 'g' => 1.2345678901234567e17]],
    ['numeric keys at top', [5 => 'x', 7 => 'y']],
    ['keys with brackets and spaces', ['a[b]' => '1', 'c d' => '2', 'e.f' => '3']],
    ['empty key and value', ['' => '', 'k' => '']],
    ['deep mixed', ['user' => ['name' => 'Ann Lee', 'tags' => ['a', 'b'], 'meta' => ['x' => null, 'y' => true]]]],
    ['spaces and plus', ['q' => 'a b+c  d']],
    ['tilde and star', ['s' => '~*']],
];

$requests = [
    ['article GET', 'GET', 'hello=world%21', '', ''],
    ['article POST', 'POST', '', 'application/x-www-form-urlencoded', 'hello=world%21'],
    ['article sendSock GET (body ignored)', 'GET', 'hello=world%21', 'application/x-www-form-urlencoded', 'hello=world%21'],
    ['GET then POST, POST wins', 'POST', 'hello=q&only=get', 'application/x-www-form-urlencoded', 'hello=world%21&only2=post'],
    ['recursive merge', 'POST', 'a[y]=2&a[x]=0', 'application/x-www-form-urlencoded', 'a[x]=1&a[z]=3'],
    ['merge: POST string replaces GET array', 'POST', 'a[x]=1', 'application/x-www-form-urlencoded', 'a=s'],
    ['merge: POST array replaces GET string', 'POST', 'a=s&b=1', 'application/x-www-form-urlencoded', 'a[x]=1'],
    ['merge: list keys collide', 'POST', 'a[]=g1&a[]=g2', 'application/x-www-form-urlencoded', 'a[]=p1'],
    ['content type any case with charset', 'POST', '', 'Application/X-WWW-Form-Urlencoded ;charset=UTF-8', 'x=1'],
    ['content type with charset, no space', 'POST', '', 'application/x-www-form-urlencoded;charset=UTF-8', 'x=1'],
    ['non-form content type: no $_POST', 'POST', 'q=1', 'application/json', '{"x":1}'],
    ['no content type: no $_POST', 'POST', 'q=1', '', 'x=1'],
    ['PUT form: no $_POST', 'PUT', 'q=1', 'application/x-www-form-urlencoded', 'x=1'],
    ['spaces and dots in names', 'GET', 'a%20b=1&c.d=2&e+f=3', '', ''],
    ['list', 'GET', 'a[]=1&a[]=2', '', ''],
    ['same key twice: last wins', 'GET', 'a[x]=1&a[x]=2&b=1&b=2', '', ''],
    ['unclosed bracket', 'GET', 'h[=4&w[a=1&w2[a.b%20c', '', ''],
    ['unclosed bracket deeper', 'GET', 'a[b][c=1', '', ''],
    ['text after a closing bracket', 'GET', 'd[b]x=1&ws]=3', '', ''],
    ['bracket inside an index', 'GET', 'w2[a[b]=2&h[[x]]=5', '', ''],
    ['empty name dropped', 'GET', '=1&[x]=2&%20=3&ok=4', '', ''],
    ['leading spaces dropped', 'GET', '%20%20lead=1&%20a%20b=2', '', ''],
    ['NUL ends a name', 'GET', 'a%00b=1&c=x%00y', '', ''],
    ['bad escapes stay as they are', 'POST', '', 'application/x-www-form-urlencoded', 'b=%41%2&c=%zz&d=%&e=%4'],
    ['plus is a space', 'GET', 'q=a+b%2Bc', '', ''],
    ['no equals sign', 'GET', 'flag&x=1&y=', '', ''],
    ['empty pieces', 'GET', '&&a=1&&b=2&', '', ''],
    ['index after explicit', 'GET', 'a[5]=1&a[]=2&a[x]=3&a[]=4', '', ''],
    ['negative index then append', 'GET', 'x[-5]=1&x[]=2&g[3]=1&g[-9]=2&g[]=3', '', ''],
    ['integer keys only when canonical', 'GET', 'm[0]=a&m[00]=b&m[-0]=c&m[1.5]=d&m[+1]=e&m[%207]=f', '', ''],
    ['integer key limits', 'GET', 'big[9223372036854775807]=1&big[]=2&e[-9223372036854775808]=1&e[]=2&f[9223372036854775808]=3&f[]=4', '', ''],
    ['space index is append', 'GET', 'k[a]=1&k[%20]=7&k[%20x]=8', '', ''],
    ['any one whitespace in an index appends', 'GET', 'a[%09]=1&a[%0A]=2&b[%09%09]=3&c[%0Dx]=4&%09d=5', '', ''],
    ['string replaced by array and back', 'GET', 'd=1&d[]=2&e[]=1&e=2', '', ''],
    ['nested replace keeps order', 'GET', 'q[a][b]=1&q[z]=0&q[a]=2&q[a][c]=3', '', ''],
    ['utf-8 and raw bytes', 'GET', 'u=%C3%A9%FF&%C3%A9=x&n=%E4%B8%AD', '', ''],
    ['control bytes in values', 'POST', '', 'application/x-www-form-urlencoded', 'c=%01%1B%5B31m%0D%0A&t=%09'],
    ['encoded brackets', 'GET', 'v%5Bz%5D=1&v%5B%5D=2', '', ''],
    ['GLOBALS and this are plain keys', 'GET', 'GLOBALS=1&this=2&_SERVER=3', '', ''],
    ['nesting 64 deep kept', 'GET', 'a' . str_repeat('[x]', 64) . '=1', '', ''],
    ['nesting 65 deep dropped whole', 'GET', 'a[y]=0&a' . str_repeat('[x]', 65) . '=1&b=2', '', ''],
    ['query: 1000 variables kept', 'GET', implode('&', array_map(fn($i) => "v$i=$i", range(1, 1001))), '', ''],
    ['form body: 1001 variables kept', 'POST', '', 'application/x-www-form-urlencoded', implode('&', array_map(fn($i) => "v$i=$i", range(1, 1002)))],
    ['form body: empty pieces count', 'POST', '', 'application/x-www-form-urlencoded', str_repeat('&', 999) . 'a=1&b=2&c=3'],
    ['multipart fields, file left out', 'POST', 'z=1', 'multipart/form-data; boundary=XyZ',
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
        . "--XyZ\r\nContent-Disposition: form-data; name=\"b[]\"\r\n\r\ntwo\r\nlines\r\n"
        . "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\nfile\r\n"
        . "--XyZ\r\ncontent-disposition: form-data; name=c.d\r\n\r\n\r\n"
        . "--XyZ--\r\n"],
    ['multipart quoted boundary', 'POST', '', 'multipart/form-data; boundary="a b"',
        "--a b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\né\r\n--a b--\r\n"],
    ['DELETE with query', 'DELETE', 'id=7', '', ''],
    // multipart as rfc1867.c reads it (issue 11): each corner found by a differential run against php -S
    ['multipart: bare LF line ends', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\nContent-Disposition: form-data; name=a\n\nv1\n--B\nContent-Disposition: form-data; name=b\n\nv2\n--B--\n"],
    ['multipart: a value ending in LF before the boundary', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv\n\r\n--B\r\nContent-Disposition: form-data; name=z\r\n\r\nz\n--B--"],
    ['multipart: no closing boundary', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv1\r\n--B\r\nContent-Disposition: form-data; name=b\r\n\r\nv2"],
    ['multipart: parts after the closing boundary', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--B--\r\n--B\r\nContent-Disposition: form-data; name=z\r\n\r\nz\r\n--B--"],
    ['multipart: name quoting (;, \\", single quotes, unquoted, junk after)', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data; name=\"a;b\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=\"c\\\"d\\\\e\"\r\n\r\n2\r\n"
        . "--B\r\nContent-Disposition: form-data; name='f'\r\n\r\n3\r\n--B\r\nContent-Disposition: form-data; name=g h\r\n\r\n4\r\n"
        . "--B\r\nContent-Disposition: form-data; name=\"i\"junk\r\n\r\n5\r\n--B\r\nContent-Disposition: form-data;name=j\\\\k\r\n\r\n6\r\n--B--"],
    ['multipart: NAME=" is an empty name', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data; NAME=\"\r\n\r\nv\r\n--B\r\nContent-Disposition: form-data; name=z\r\n\r\nz\r\n--B--"],
    ['multipart: name ="a" is no name, and a part without name or filename ends the body', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data; name=y\r\n\r\ny\r\n--B\r\nContent-Disposition: form-data; name =\"a\"\r\n\r\nv\r\n"
        . "--B\r\nContent-Disposition: form-data; name=z\r\n\r\nz\r\n--B--"],
    ['multipart: a space before a header\'s colon drops the header', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition : form-data; name=a\r\n\r\nv\r\n--B\r\nContent-Disposition: form-data; name=z\r\n\r\nz\r\n--B--"],
    ['multipart: folded headers and lines without a colon continue the header before', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nv\r\n--B\r\nContent-Disposition: form-data; name=\"b\r\nc\"\r\n\r\nw\r\n--B--"],
    ['multipart: a boundary line with trailing bytes is not one', 'POST', '', 'multipart/form-data; boundary=B',
        "--B \r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--B\r\nContent-Disposition: form-data; name=z\r\n\r\nz\r\n--B--"],
    ['multipart: --Bx inside a value ends it', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--Bx\r\nw\r\n--B\r\nContent-Disposition: form-data; name=z\r\n\r\nz\r\n--B--"],
    ['multipart: a part without headers', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\n\r\nv\r\n--B\r\nContent-Disposition: form-data; name=z\r\n\r\nz\r\n--B--"],
    ['multipart: files with filename="" are not read, the next part is looked for line by line', 'POST', '', 'multipart/form-data; boundary=B',
        "--B\r\nContent-Disposition: form-data; name=f; filename=\"\"\r\n\r\n--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--B--"],
    ['multipart: a NUL in the Content-Type ends it', 'POST', '', "multipart/form-data; boundary=B\0x",
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--B--"],
    ['multipart: a boundary of 5,117 bytes is too large', 'POST', '', 'multipart/form-data; boundary=' . str_repeat('b', 5117),
        '--' . str_repeat('b', 5117) . "\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--" . str_repeat('b', 5117) . '--'],
    ['multipart: a boundary of 5,116 bytes and a value longer than PHP\'s buffer', 'POST', '', 'multipart/form-data; boundary=' . str_repeat('b', 5116),
        '--' . str_repeat('b', 5116) . "\r\nContent-Disposition: form-data; name=a\r\n\r\n" . str_repeat('v', 12000) . "\r\n--" . str_repeat('b', 5116) . '--'],
];

function latin1(string $bytes): string { return iconv('ISO-8859-1', 'UTF-8', $bytes); }

$out = ['produced' => 'php tests/php/make-vectors.php with PHP ' . PHP_VERSION . ': http_build_query run in PHP; '
        . 'each request sent raw to php -S serving tests/php/res.php (' . implode(' ', INI) . '). '
        . 'Byte strings are written one char per byte (ISO-8859-1).',
        'http_build_query' => [], 'requests' => []];
foreach ($builds as [$name, $input]) {
    $out['http_build_query'][] = ['name' => $name, 'input' => $input, 'php' => http_build_query($input)];
}

$port = 20000 + random_int(0, 20000);
$log = tempnam(sys_get_temp_dir(), 'phplog');
$args = [PHP_BINARY];
foreach (INI as $d) { $args[] = '-d'; $args[] = $d; }
array_push($args, '-S', "127.0.0.1:$port", '-t', __DIR__);
$server = proc_open($args, [0 => ['pipe', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', $log, 'w']], $pipes,
    null, ['RES_SLEEP' => '0'] + getenv());
for ($i = 0; $i < 100 && !@fsockopen('127.0.0.1', $port); $i++) usleep(50000);

foreach ($requests as [$name, $method, $query, $type, $body]) {
    $before = substr_count(file_get_contents($log), 'PHP Warning');
    $fp = fsockopen('127.0.0.1', $port);
    $req = "$method /res.php" . ($query === '' ? '' : "?$query") . " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if ($type !== '') $req .= "Content-Type: $type\r\n";
    if ($body !== '' || $method !== 'GET') $req .= 'Content-Length: ' . strlen($body) . "\r\n";
    fwrite($fp, "$req\r\n$body");
    $answer = stream_get_contents($fp);
    fclose($fp);
    usleep(20000);
    $warnings = substr_count(file_get_contents($log), 'PHP Warning') - $before;
    $out['requests'][] = ['name' => $name, 'method' => $method, 'query' => latin1($query), 'content_type' => $type,
        'body' => latin1($body), 'status' => (int) substr($answer, 9, 3), 'answer' => latin1(substr($answer, strpos($answer, "\r\n\r\n") + 4)), 'warnings' => $warnings];
}
proc_terminate($server);
unlink($log);
echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION), "\n";
