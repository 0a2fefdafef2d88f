filedesc://t.arc 0.0.0.0 20240101000000 text/plain 69
1 0 crawl2lm
URL IP-address Archive-date Content-type Archive-length

http://e.com/b1 10.0.0.1 20240102030405 text/html 57
HTTP/1.1 200 OK
Content-Type: text/html

<p>page 1</p>
http://e.com/b2 10.0.0.1 20240102030405 text/html 120
HTTP/1.1 200 OK
Content-Type: text/html

<p>page 2</p>
http://e.com/b3 10.0.0.1 20240102030405 text/html 57
HTTP/1.1 200 OK
Content-Type: text/html

<p>page 3</p>
http://e.com/b1 10.0.0.1 20240102030405 text/html 5000
HTTP/1.1 200 OK
Content-Type: text/html

<p>page 1</p>