// swift-tools-version:6.0
// Graft: a Swift graph compiler for machine learning. Module dependencies point one way:
// GraftIR ← Graft (DSL) ← GraftModels ← graft (CLI); GraftIR ← GraftPasses ← GraftModels;
// GraftIR ← GraftInterpreter.
import PackageDescription

let package = Package(
    name: "Graft",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Graft", targets: ["Graft"]),
        .library(name: "GraftModels", targets: ["GraftModels"]),
        .executable(name: "graft", targets: ["graft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "GraftIR"),
        .target(name: "GraftInterpreter", dependencies: ["GraftIR"]),
        .target(name: "Graft", dependencies: ["GraftIR"]),
        .target(name: "GraftPasses", dependencies: ["GraftIR"]),
        .target(name: "CLLVM", linkerSettings: [.linkedLibrary("LLVM-14")]),
        .target(name: "GraftBackend", dependencies: ["GraftIR", "GraftPasses", "CLLVM"]),
        .target(name: "GraftRuntime", dependencies: ["GraftIR", "GraftPasses", "GraftBackend"]),
        .target(name: "GraftCheckpoint", dependencies: ["GraftIR"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "GraftData", dependencies: ["GraftIR", "CZlib"]),
        .target(name: "GraftModels", dependencies: ["Graft", "GraftPasses"], path: "models"),
        .target(name: "GraftTrain", dependencies: [
            "GraftIR", "Graft", "GraftPasses", "GraftBackend", "GraftRuntime", "GraftModels", "GraftData", "GraftCheckpoint",
        ]),
        .executableTarget(
            name: "graft",
            dependencies: [
                "GraftIR", "Graft", "GraftPasses", "GraftModels", "GraftInterpreter", "GraftBackend", "GraftRuntime",
                "GraftData", "GraftCheckpoint", "GraftTrain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "GraftIRTests", dependencies: ["GraftIR", "GraftTestSupport"]),
        .testTarget(name: "GraftInterpreterTests", dependencies: ["GraftIR", "GraftInterpreter"]),
        .testTarget(name: "GraftTests", dependencies: ["Graft", "GraftInterpreter"]),
        .testTarget(name: "GraftPassesTests", dependencies: ["GraftPasses", "Graft", "GraftInterpreter"]),
        .testTarget(name: "GraftStepTests", dependencies: ["Graft", "GraftModels", "GraftPasses", "GraftInterpreter"]),
        .testTarget(name: "GraftModelsTests", dependencies: ["GraftModels", "GraftInterpreter"]),
        .target(name: "GraftTestSupport", path: "Tests/GraftTestSupport"),
        .testTarget(name: "GraftCLITests", dependencies: ["graft", "GraftTestSupport"]),
        .testTarget(name: "GraftTrainTests", dependencies: ["graft", "GraftTestSupport"]),
        .testTarget(name: "GraftBackendTests", dependencies: ["GraftBackend", "GraftPasses", "GraftIR"]),
        .testTarget(name: "GraftRuntimeTests", dependencies: ["GraftRuntime", "GraftBackend", "GraftPasses", "GraftInterpreter", "GraftModels", "Graft"]),
        .testTarget(name: "GraftCheckpointTests", dependencies: ["GraftCheckpoint", "GraftIR", "GraftTestSupport"]),
        .testTarget(name: "GraftDataTests", dependencies: ["GraftData", "GraftIR", "CZlib", "GraftTestSupport"]),
    ]
)
