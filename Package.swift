// swift-tools-version:6.0
// Graft: a Swift graph compiler for machine learning. Module dependencies point one way:
// GraftIR ← GraftDSL ← GraftModels ← GraftTrain ← Graft (one import for users) ← graft (CLI);
// GraftIR ← GraftPasses ← GraftBackend ← GraftRuntime ← GraftTrain; GraftIR ← GraftInterpreter.
import PackageDescription

let package = Package(
    name: "Graft",
    platforms: [.macOS(.v13)],
    products: [
        // Everything a user's package needs, behind one `import Graft`.
        .library(name: "Graft", targets: ["Graft"]),
        .executable(name: "graft", targets: ["graft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "GraftIR"),
        .target(name: "GraftInterpreter", dependencies: ["GraftIR"]),
        .target(name: "GraftDSL", dependencies: ["GraftIR"]),
        .target(name: "GraftPasses", dependencies: ["GraftIR"]),
        .target(name: "CLLVM", linkerSettings: [.linkedLibrary("LLVM-14")]),
        .target(name: "GraftBackend", dependencies: ["GraftIR", "GraftPasses", "CLLVM"]),
        .target(name: "GraftRuntime", dependencies: ["GraftIR", "GraftPasses", "GraftBackend"]),
        .target(name: "GraftCheckpoint", dependencies: ["GraftIR"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "GraftData", dependencies: ["GraftIR", "CZlib"]),
        .target(name: "GraftModels", dependencies: ["GraftDSL", "GraftPasses"], path: "models"),
        .target(name: "GraftTrain", dependencies: [
            "GraftIR", "GraftDSL", "GraftPasses", "GraftBackend", "GraftRuntime", "GraftModels", "GraftData", "GraftCheckpoint",
        ]),
        .target(name: "Graft", dependencies: [
            "GraftIR", "GraftDSL", "GraftPasses", "GraftInterpreter", "GraftBackend", "GraftRuntime", "GraftCheckpoint",
            "GraftData", "GraftModels", "GraftTrain",
        ]),
        .executableTarget(
            name: "graft",
            dependencies: [
                "Graft",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "GraftIRTests", dependencies: ["GraftIR", "GraftTestSupport"]),
        .testTarget(name: "GraftInterpreterTests", dependencies: ["GraftIR", "GraftInterpreter"]),
        .testTarget(name: "GraftTests", dependencies: ["GraftDSL", "GraftInterpreter"]),
        .testTarget(name: "GraftPassesTests", dependencies: ["GraftPasses", "GraftDSL", "GraftInterpreter", "GraftTestSupport"]),
        .testTarget(name: "GraftStepTests", dependencies: ["GraftDSL", "GraftModels", "GraftPasses", "GraftInterpreter"]),
        .testTarget(name: "GraftModelsTests", dependencies: ["GraftModels", "GraftPasses", "GraftInterpreter"]),
        .target(name: "GraftTestSupport", dependencies: ["GraftIR"], path: "Tests/GraftTestSupport"),
        .testTarget(name: "GraftCLITests", dependencies: ["graft", "GraftTestSupport"]),
        .testTarget(name: "GraftTrainTests", dependencies: ["graft", "GraftTestSupport"]),
        // The public API as a user's package sees it: `import Graft` and nothing else.
        .testTarget(name: "GraftAPITests", dependencies: ["Graft", "GraftTestSupport"]),
        .testTarget(name: "GraftBackendTests", dependencies: ["GraftBackend", "GraftPasses", "GraftIR"]),
        .testTarget(name: "GraftRuntimeTests", dependencies: ["GraftRuntime", "GraftBackend", "GraftPasses", "GraftInterpreter", "GraftModels", "GraftDSL"]),
        .testTarget(name: "GraftCheckpointTests", dependencies: ["GraftCheckpoint", "GraftIR", "GraftTestSupport"]),
        .testTarget(name: "GraftDataTests", dependencies: ["GraftData", "GraftIR", "CZlib", "GraftTestSupport"]),
    ]
)
