-- Sends 16 pipelined GET requests in one write, as wrk's pipeline example does.
init = function(args)
   local r = {}
   for i = 1, 16 do
      r[i] = wrk.format(nil, "/index.html")
   end
   req = table.concat(r)
end

request = function()
   return req
end
