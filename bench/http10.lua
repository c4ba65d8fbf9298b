-- HTTP/1.0 without keep-alive: every request pays for a new connection.
request = function()
   return "GET /index.html HTTP/1.0\r\nHost: bench\r\n\r\n"
end
