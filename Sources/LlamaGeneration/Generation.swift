import LlamaModel
