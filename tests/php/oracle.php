<?php
// The PHP side of tests/PhpPeerTest.java's agreement check: one JSON value a line on stdin; for each,
// one line out: base64(http_build_query(value)) TAB base64(print_r of what parse_str builds from it).
while (($line = fgets(STDIN)) !== false) {
    $value = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
    $query = http_build_query($value);
    parse_str($query, $parsed);
    echo base64_encode($query), "\t", base64_encode(print_r($parsed, true)), "\n";
}
