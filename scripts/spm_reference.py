#!/usr/bin/env python3
"""Reference outputs of the real `sentencepiece` library for the Swift tokenizer tests.

Commands (all output is JSON on stdout):
  encode MODEL LINES_FILE   per line (bytes split on b'\\n'; a final empty line after the
                            last '\\n' is dropped): ids, pieces, decode(ids), decode(pieces)
  train INPUT PREFIX OPTIONS_JSON
                            trains with SentencePieceTrainer.train(input=INPUT,
                            model_prefix=PREFIX, **options); prints {"seconds": t}
  vocab MODEL               [[piece, score, type], ...] with type the ModelProto number
  info MODEL                bos/eos/pad/unk ids and the piece count
  version                   {"version": sentencepiece.__version__}
"""
import json
import sys
import time

import sentencepiece as spm


def read_lines(path):
    data = open(path, 'rb').read()
    lines = data.split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()
    return lines


def main():
    command = sys.argv[1]
    if command == 'encode':
        sp = spm.SentencePieceProcessor(model_file=sys.argv[2])
        result = []
        for line in read_lines(sys.argv[3]):
            ids = sp.encode(line)
            pieces = sp.encode(line, out_type=str)
            result.append({'ids': ids, 'pieces': pieces, 'decoded': sp.decode(ids),
                           'decoded_pieces': sp.decode_pieces(pieces)})
        json.dump(result, sys.stdout)
    elif command == 'train':
        options = json.loads(sys.argv[4])
        start = time.perf_counter()
        spm.SentencePieceTrainer.train(input=sys.argv[2], model_prefix=sys.argv[3], minloglevel=2, **options)
        json.dump({'seconds': time.perf_counter() - start}, sys.stdout)
    elif command == 'vocab':
        sp = spm.SentencePieceProcessor(model_file=sys.argv[2])
        types = []
        for i in range(sp.get_piece_size()):
            if sp.is_unknown(i):
                t = 2
            elif sp.is_control(i):
                t = 3
            elif sp.is_unused(i):
                t = 5
            elif sp.is_byte(i):
                t = 6
            else:
                t = 1  # normal or user-defined: the Python API does not tell them apart
            types.append(t)
        json.dump([[sp.id_to_piece(i), sp.get_score(i), types[i]] for i in range(sp.get_piece_size())], sys.stdout)
    elif command == 'info':
        sp = spm.SentencePieceProcessor(model_file=sys.argv[2])
        json.dump({'bos': sp.bos_id(), 'eos': sp.eos_id(), 'pad': sp.pad_id(), 'unk': sp.unk_id(),
                   'size': sp.get_piece_size()}, sys.stdout)
    elif command == 'version':
        json.dump({'version': spm.__version__}, sys.stdout)
    else:
        raise SystemExit('unknown command ' + command)


if __name__ == '__main__':
    main()
