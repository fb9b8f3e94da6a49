import LlamaCore
