"""Reference outputs for ChatTemplateTests: a JSON request on stdin, a JSON answer on stdout.

{"render": {"template": T, "conversations": [[{"role", "content"}…]…]}} renders each
conversation with jinja2 as transformers' apply_chat_template does (sandboxed environment,
trim_blocks, lstrip_blocks, raise_exception, add_generation_prompt=True, bos "<s>", eos "</s>"),
giving the text or {"error": message}.
{"tokenize": {"model": PATH, "texts": [...]}} tokenizes each text as llama.cpp does with
parse_special: cut at the model's control and unknown pieces (longest first), each piece its id,
each stretch of text between them encoded by sentencepiece on its own.
"""
import json
import sys

request = json.load(sys.stdin)
answer = {}
if "render" in request:
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise TemplateError(message)

    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    environment.globals["raise_exception"] = raise_exception
    template = environment.from_string(request["render"]["template"])
    results = []
    for messages in request["render"]["conversations"]:
        try:
            results.append(template.render(messages=messages, add_generation_prompt=True, bos_token="<s>", eos_token="</s>"))
        except TemplateError as error:
            results.append({"error": str(error)})
    answer["render"] = results
if "tokenize" in request:
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_file=request["tokenize"]["model"])
    specials = sorted(((processor.id_to_piece(i), i) for i in range(processor.get_piece_size())
                       if processor.is_control(i) or processor.is_unknown(i)), key=lambda item: -len(item[0]))
    results = []
    for text in request["tokenize"]["texts"]:
        ids, start, position = [], 0, 0
        while position < len(text):
            match = next(((piece, i) for piece, i in specials if text.startswith(piece, position)), None)
            if match:
                if position > start:
                    ids += processor.encode(text[start:position])
                ids.append(match[1])
                position += len(match[0])
                start = position
            else:
                position += 1
        if start < len(text):
            ids += processor.encode(text[start:])
        results.append(ids)
    answer["tokenize"] = results
json.dump(answer, sys.stdout)
