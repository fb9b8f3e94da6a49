"""Chat prompts with special pieces, tokenized as `llama serve` tokenizes them (the reference split
of Tests/LlamaServerTests/Python/chat_reference.py, which ChatTemplateTests holds the Swift
tokenizer to), against llama.cpp's `llama-tokenize` with special parsing on a GGUF file whose
vocabulary came from the same tokenizer.model. Never run by `swift test`.

Usage: python3 Benchmarks/chat-tokenize.py LLAMA_CPP_BIN_DIR FILE.gguf tokenizer.model
"""
import json
import os
import subprocess
import sys

binaries, gguf, model = sys.argv[1:4]
texts = [
    "<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHi [/INST] Hello! How can I help? </s><s>[INST] Tell me a joke. [/INST]",
    "x<unk>y</s><s>z", "  <s>\n\nend</s>", "<|user|>\nHi</s>\n<|assistant|>\n", "<s>", "a</s", "</s></s>  x",
    "<|system|>\nYou are a pirate.</s>\n<|user|>\nWhere is the treasure?</s>\n<|assistant|>\n",
]
script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests/LlamaServerTests/Python/chat_reference.py")
ours = json.loads(subprocess.run(["python3", script], capture_output=True, text=True, check=True,
                                 input=json.dumps({"tokenize": {"model": model, "texts": texts}})).stdout)["tokenize"]
same = 0
for text, mine in zip(texts, ours):
    result = subprocess.run([os.path.join(binaries, "llama-tokenize"), "-m", gguf, "-p", text, "--ids", "--log-disable", "--no-bos"],
                            capture_output=True, text=True, env={**os.environ, "LD_LIBRARY_PATH": binaries})
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    same += theirs == mine
    if theirs != mine:
        print("differs:", repr(text), mine, theirs)
print(f"{same} of {len(texts)} prompts tokenized identically")
