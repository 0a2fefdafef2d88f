filedesc://v2.arc 0.0.0.0 20000101000000 text/plain 200 - - 0 v2.arc 14
2 0 Alexa
URL

http://e.com/v2 10.0.0.1 19980102030405 text/html 200 5d41402abc4b2a76 - 0 v2.arc 57
HTTP/1.1 200 OK
Content-Type: text/html

<p>page 1</p>
dns:e.com 10.0.0.1 19980102030405 text/dns 0 - - 0 v2.arc 15
19980102030405
