#!/usr/bin/env python3
"""python `sentencepiece` figures for Benchmarks/tokenizer.sh (prints JSON).

  spm_bench.py encode MODEL CORPUS [REPEAT]   encode all lines with 1 and 2 threads
  spm_bench.py train CORPUS VOCAB [REPEAT]    train BPE (defaults otherwise); seconds, peak RSS
"""
import json
import resource
import sys
import tempfile
import time

import sentencepiece as spm


def best_of(repeat, body):
    best = float('inf')
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = body()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    if sys.argv[1] == 'encode':
        model, corpus = sys.argv[2], sys.argv[3]
        repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3
        sp = spm.SentencePieceProcessor(model_file=model)
        data = open(corpus, 'rb').read()
        lines = data.split(b'\n')
        if lines and lines[-1] == b'':
            lines.pop()
        size = sum(len(l) + 1 for l in lines)
        out = {'bytes': size, 'lines': len(lines)}
        for threads in (1, 2):
            seconds, ids = best_of(repeat, lambda: sp.encode(lines, num_threads=threads))
            tokens = sum(len(x) for x in ids)
            out['threads_%d' % threads] = {'seconds': seconds, 'mb_per_s': size / 1e6 / seconds,
                                           'tokens_per_s': tokens / seconds, 'tokens': tokens}
        print(json.dumps(out))
    elif sys.argv[1] == 'train':
        corpus, vocab = sys.argv[2], int(sys.argv[3])
        repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3
        with tempfile.TemporaryDirectory() as directory:
            seconds, _ = best_of(repeat, lambda: spm.SentencePieceTrainer.train(
                input=corpus, model_prefix=directory + '/m', model_type='bpe', vocab_size=vocab, minloglevel=2))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({'train_seconds': seconds, 'peak_rss_mb': peak}))


if __name__ == '__main__':
    main()
