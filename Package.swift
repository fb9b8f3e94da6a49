// swift-tools-version:6.0
import PackageDescription

/// Code generation for the CPU the toolkit is built on: the SIMD kernels are written with
/// Swift SIMD types, which only become AVX2/FMA (x86) or NEON (ARM) code when the target
/// CPU allows it. haswell (AVX2, FMA, F16C; x86-64-v3) covers every x86 server since 2015.
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell", "-Ounchecked"], .when(configuration: .release)),
                                .unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .debug))]
let cFlags: [CSetting] = [.unsafeFlags(["-march=x86-64-v3", "-O3"])]
#else
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
let cFlags: [CSetting] = [.unsafeFlags(["-O3"])]
#endif

let swiftSettings: [SwiftSetting] = cpuFlags

let package = Package(
    name: "SwiftLlama",
    products: [
        .executable(name: "llama", targets: ["LlamaCLI"]),
        .library(name: "LlamaCore", targets: ["LlamaCore"]),
        .library(name: "LlamaTokenizer", targets: ["LlamaTokenizer"]),
        .library(name: "LlamaModel", targets: ["LlamaModel"]),
        .library(name: "LlamaGeneration", targets: ["LlamaGeneration"]),
        .library(name: "LlamaTraining", targets: ["LlamaTraining"]),
        .library(name: "LlamaDistributed", targets: ["LlamaDistributed"]),
        .library(name: "LlamaData", targets: ["LlamaData"]),
        .library(name: "LlamaEvaluation", targets: ["LlamaEvaluation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CLlamaKernels", cSettings: cFlags),
        .target(name: "LlamaCore", dependencies: ["CBLAS", "CLlamaKernels"], swiftSettings: swiftSettings),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "LlamaData", dependencies: ["LlamaCore", "LlamaTokenizer", "CZlib"], exclude: ["BadWords/ldnoobw-en.txt"],
                swiftSettings: swiftSettings),
        .target(name: "LlamaTokenizer",
                dependencies: ["LlamaCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                resources: [.copy("Resources/Charsmaps"), .copy("Resources/unicode_scripts.txt")],
                swiftSettings: swiftSettings),
        .target(name: "LlamaModel", dependencies: ["LlamaCore", "CBLAS", "CLlamaKernels"], swiftSettings: swiftSettings),
        .target(name: "LlamaGeneration", dependencies: ["LlamaModel", "LlamaTokenizer"], swiftSettings: swiftSettings),
        .target(name: "LlamaEvaluation", dependencies: ["LlamaModel", "LlamaGeneration", "LlamaTokenizer"],
                swiftSettings: swiftSettings),
        .target(name: "LlamaServer",
                dependencies: ["LlamaModel", "LlamaGeneration", "LlamaTokenizer",
                               .product(name: "Hummingbird", package: "hummingbird")],
                swiftSettings: swiftSettings),
        // MPI is loaded at run time (dlopen), so nothing here links it: see docs/training.md.
        .target(name: "LlamaDistributed", swiftSettings: swiftSettings),
        .target(name: "LlamaTraining",
                dependencies: ["LlamaCore", "LlamaModel", "LlamaGeneration", "LlamaTokenizer", "LlamaData", "LlamaDistributed"],
                resources: [.copy("Resources/corpora")], swiftSettings: swiftSettings),
        .executableTarget(name: "LlamaCLI",
                          dependencies: ["LlamaCore", "LlamaModel", "LlamaTokenizer", "LlamaGeneration", "LlamaServer",
                                         "LlamaTraining", "LlamaData", "LlamaEvaluation", "LlamaDistributed",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: swiftSettings),
        .testTarget(name: "LlamaCoreTests", dependencies: ["LlamaCore"], swiftSettings: swiftSettings),
        .testTarget(name: "LlamaModelTests", dependencies: ["LlamaModel", "LlamaGeneration"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LlamaCLITests", dependencies: ["LlamaCore"], exclude: ["Python"], swiftSettings: swiftSettings),
        .testTarget(name: "LlamaTrainingTests", dependencies: ["LlamaTraining", "LlamaModel", "LlamaCore", "LlamaDistributed", "LlamaData", "LlamaTokenizer"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LlamaDataTests", dependencies: ["LlamaData", "LlamaTokenizer"], swiftSettings: swiftSettings),
        .testTarget(name: "LlamaEvaluationTests", dependencies: ["LlamaEvaluation", "LlamaCore"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LlamaTokenizerTests", dependencies: ["LlamaTokenizer"], swiftSettings: swiftSettings),
        .testTarget(name: "LlamaServerTests", dependencies: ["LlamaServer", "LlamaTokenizer"], exclude: ["Python"],
                    swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v5]
)
