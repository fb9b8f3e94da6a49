import ArgumentParser

/// The `llama` command: one subcommand per stage of the toolkit.
@main
struct Llama: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llama",
        abstract: "The LLaMA system in Swift: data, tokenizer, training, inference, evaluation.",
        subcommands: [
            TokenizerCommand.self, TrainCommand.self, TrainBenchCommand.self, ExportCommand.self,
            GenerateCommand.self, LogitsCommand.self, ParityCommand.self, BenchCommand.self, ModelInfoCommand.self,
            ConvertCommand.self, QuantizeCommand.self, ServeCommand.self, DataCommand.self, EvalCommand.self,
        ])
}
