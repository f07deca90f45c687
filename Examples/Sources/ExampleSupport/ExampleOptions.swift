// ExampleOptions: the few flags every example takes, so CI can run each for a few steps.

import Foundation
import Graft

/// `--epochs N`, `--steps N` (stop after N optimizer steps) and `--images N` (the first N
/// training and test images), for quick runs; `--data DIR`, `--out DIR`, `--seed N`;
/// `--dump-ir DIR` writes the model's IR at every compilation stage.
public struct ExampleOptions {
    public var epochs: Int
    public var steps: Int?
    public var images: Int?
    public var dumpIR: String?
    public var data = FashionMNIST.defaultDirectory
    public var out: String
    public var seed: UInt64 = 1

    /// Parses the process's arguments; prints a usage line and exits on a bad one.
    public init(defaultEpochs: Int, defaultOut: String, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        epochs = defaultEpochs
        out = defaultOut
        var rest = arguments[...]
        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data("error: \(message)\nusage: \(CommandLine.arguments[0]) [--epochs N] [--steps N] [--images N] [--data DIR] [--out DIR] [--seed N] [--dump-ir DIR]\n".utf8))
            exit(2)
        }
        func positive(_ flag: String) -> Int {
            guard let text = rest.popFirst() else { fail("\(flag) needs a value") }
            guard let value = Int(text), value > 0 else { fail("\(flag) must be a positive integer, not '\(text)'") }
            return value
        }
        func argument(_ flag: String, _ what: String) -> String {
            guard let value = rest.popFirst() else { fail("\(flag) needs \(what)") }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--epochs": epochs = positive(flag)
            case "--steps": steps = positive(flag)
            case "--images": images = positive(flag)
            case "--seed": seed = UInt64(positive(flag))
            case "--dump-ir": dumpIR = argument(flag, "a directory")
            case "--data": data = argument(flag, "a directory")
            case "--out": out = argument(flag, "a directory")
            default: fail("unknown argument '\(flag)'")
            }
        }
    }
}

extension ExampleOptions {
    /// The training and test sets in `data` (Fashion-MNIST, MNIST or CIFAR-10), cut to `--images`.
    public func datasets() throws -> (train: Dataset, test: Dataset) {
        var train = try Dataset.load(directory: data, split: .train)
        var test = try Dataset.load(directory: data, split: .test)
        if let images {
            train = train.prefix(images)
            test = test.prefix(images)
        }
        return (train, test)
    }

    /// With `--dump-ir DIR`, writes `step`'s IR at every stage to `DIR/<model>.<stage>.txt`.
    public func dumpIR(of step: TrainingStep) throws {
        guard let directory = dumpIR else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for stage in CompilationStage.allCases {
            let path = "\(directory)/\(step.graph.name).\(stage.rawValue).txt"
            try step.ir(at: stage).write(toFile: path, atomically: true, encoding: .utf8)
        }
        print("wrote the IR of \(step.graph.name) at every stage (\(CompilationStage.allCases.map(\.rawValue).joined(separator: ", "))) to \(directory)")
    }
}

/// Runs `body`, printing a thrown error as `[file:line: ]error: …` and exiting with status 1.
public func runExample(_ body: () throws -> Void) {
    do {
        try body()
    } catch let error as Diagnostic {
        FileHandle.standardError.write(Data("\(error)\n".utf8))   // `file:line: error: …`
        exit(1)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}
