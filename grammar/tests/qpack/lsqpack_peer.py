"""The independent QPACK peer of tests/qpack_differential.rs: ls-qpack, through pylsqpack.

One JSON object a line on stdin, one answer a line on stdout; bytes travel as hex.
  {"op": "settings", "capacity": N, "blocked": N}  -> {"encoder": hex}
      a new encoder, as if our SETTINGS had advertised N and N; its Set Dynamic Table
      Capacity instruction in "encoder"
  {"op": "encode", "stream": N, "headers": [[hex, hex], ...]}
      -> {"encoder": hex, "section": hex}
  {"op": "feed_decoder", "data": hex}              -> {}
      our decoder stream's acknowledgments, so that the encoder references what we hold
  {"op": "decode", "stream": N, "section": hex}    -> {"headers": [[hex, hex], ...]}
      a section our encoder wrote, decoded by ls-qpack (table capacity 0)
An exception is answered {"error": repr}.
"""

import json
import sys

import pylsqpack

encoder = pylsqpack.Encoder()
decoder = pylsqpack.Decoder(0, 0)


def answer_to(request):
    global encoder
    op = request["op"]
    if op == "settings":
        encoder = pylsqpack.Encoder()
        data = encoder.apply_settings(
            max_table_capacity=request["capacity"], blocked_streams=request["blocked"]
        )
        return {"encoder": data.hex()}
    elif op == "encode":
        headers = [(bytes.fromhex(n), bytes.fromhex(v)) for n, v in request["headers"]]
        data, section = encoder.encode(request["stream"], headers)
        return {"encoder": data.hex(), "section": section.hex()}
    elif op == "feed_decoder":
        encoder.feed_decoder(bytes.fromhex(request["data"]))
        return {}
    elif op == "decode":
        _, headers = decoder.feed_header(request["stream"], bytes.fromhex(request["section"]))
        return {"headers": [[n.hex(), v.hex()] for n, v in headers]}
    return {"error": f"unknown op {op}"}


for line in sys.stdin:
    try:
        answer = answer_to(json.loads(line))
    except Exception as error:  # reported to the test, which fails with it
        answer = {"error": repr(error)}
    print(json.dumps(answer), flush=True)
