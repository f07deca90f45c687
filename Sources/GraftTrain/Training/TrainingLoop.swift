// TrainingLoop: any compiled training step, fed batches for a number of epochs, with the
// progress line, the metrics log, checkpoints, Ctrl-C save and exact resume.

import Foundation
import GraftIR
import GraftData
import GraftCheckpoint

/// Set by the SIGINT handler; the loop saves a checkpoint and stops at the next step.
nonisolated(unsafe) private var interruptRequested: Int32 = 0

/// Trains a `TrainingStep` on `Batches` for a number of epochs.
///
/// ```swift
/// let loop = try TrainingLoop(step: step, data: batches, epochs: 5, outputDirectory: "runs/lenet")
/// loop.epochEnd = { epoch in ["test_accuracy": try measure()] }
/// try loop.run()
/// ```
///
/// Every 10 steps the loop appends a record to `<out>/metrics.jsonl` (the step's scalar
/// outputs by `outputNames`, the learning rate, τ when the step has one, throughput and the
/// share of time spent on data); at every epoch's end (and every `checkpointEvery` steps, and
/// on Ctrl-C) it writes `<out>/checkpoint.safetensors` atomically; when it stops it draws
/// each logged output and each `epochEnd` metric as `<out>/<name>.svg`. To resume, restore the
/// step from that checkpoint (`step.restore(from:)`) before `run()`: the loop continues at the
/// step's position, with the same batches, bit for bit.
public final class TrainingLoop {
    public let step: TrainingStep
    public let data: Batches
    public let epochs: Int
    public let outputDirectory: String
    /// Names of the step's outputs in the metrics log and progress line (output 0: the loss).
    /// Outputs that are not scalars are not logged.
    public var outputNames: [String]
    /// Write a checkpoint every this many steps too (0: at the end of every epoch only).
    public var checkpointEvery = 0
    /// Stored in every checkpoint beside Graft's own metadata (e.g. the run's settings).
    public var checkpointMetadata: [String: String] = [:]
    /// Called after every epoch's checkpoint with the epoch (from 1); the metrics it returns
    /// are logged (e.g. a test accuracy).
    public var epochEnd: ((_ epoch: Int) throws -> [String: Double])?
    /// Stops the run with an error when a logged output is not finite (the loss by default).
    public var finiteOutputs: Set<String> = ["loss"]
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// Writes the progress line (carriage-return updates on a terminal).
    public var progress: (String) -> Void = { line in
        FileHandle.standardError.write(Data(((isatty(2) != 0 ? "\r" : "") + line + (isatty(2) != 0 ? "" : "\n")).utf8))
    }

    public var checkpointPath: String { outputDirectory + "/checkpoint.safetensors" }
    public var metricsPath: String { outputDirectory + "/metrics.jsonl" }
    public var totalSteps: Int { epochs * data.stepsPerEpoch }

    /// - Throws: a `Diagnostic` if the data does not give the step's inputs (naming the input
    ///   and both types) or `epochs` is not positive.
    public init(step: TrainingStep, data: Batches, epochs: Int, outputDirectory: String, outputNames: [String] = ["loss"]) throws {
        guard epochs > 0 else { throw Diagnostic("the number of epochs must be at least 1, not \(epochs)") }
        try data.check(against: step.dataInputs)
        self.step = step
        self.data = data
        self.epochs = epochs
        self.outputDirectory = outputDirectory
        self.outputNames = outputNames
    }

    /// Runs from the step's position to the end (or to `stopAt`, saving a checkpoint there)
    /// and returns the last loss.
    /// - Throws: `TrainingInterrupted` after Ctrl-C (the checkpoint is saved), a `Diagnostic`
    ///   when an output in `finiteOutputs` stops being finite or `stopAt` is not one of the
    ///   steps left to run.
    @discardableResult
    public func run(stopAt: Int? = nil) throws -> Float {
        // What the program printed before (buffered stdout) comes before the progress and log
        // lines (stderr), also when both go to one file.
        fflush(nil)
        // In data-parallel training every replica runs this loop on its shard; rank 0 alone
        // writes the log, the checkpoints, the plots and the progress line.
        let writes = step.communicator.rank == 0
        let (progress, log) = writes ? (self.progress, self.log) : ({ _ in }, { _ in })
        let manager = FileManager.default
        if let stopAt, stopAt <= step.stepsTaken || stopAt > totalSteps {
            throw Diagnostic("cannot stop at step \(stopAt): the steps left to run are \(step.stepsTaken + 1) to \(totalSteps); stop at a step in that range")
        }
        if writes {
            do {
                try manager.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            } catch {
                throw Diagnostic("cannot create the output directory '\(outputDirectory)': \((error as NSError).localizedDescription)",
                                 notes: ["give --out a directory that can be created and written"])
            }
        }
        // A run killed while writing a checkpoint leaves its temporary file; the checkpoint
        // itself is always whole. Clear such leftovers.
        let checkpointName = URL(fileURLWithPath: checkpointPath).lastPathComponent
        for name in (writes ? try? manager.contentsOfDirectory(atPath: outputDirectory) : nil) ?? [] where name.hasPrefix(checkpointName + ".tmp-") {
            try? manager.removeItem(atPath: outputDirectory + "/" + name)
        }
        let startStep = step.stepsTaken
        let stepsPerEpoch = data.stepsPerEpoch
        let batchSize = data.batchSize
        let metrics = writes ? try MetricsLog(path: metricsPath, keepingStepsUpTo: startStep > 0 ? startStep : nil) : nil
        if startStep == 0 {
            metrics?.write(["event": "start", "step": 0, "model": step.graph.name, "batch_size": batchSize, "epochs": epochs])
        }
        let batches = data.stream(fromStep: startStep)
        interruptRequested = 0
        signal(SIGINT) { _ in interruptRequested = 1 }
        defer { signal(SIGINT, SIG_DFL) }
        // If a signal ends the run (mpirun after another rank died), rank 0 says which step
        // the checkpoint holds and how to resume.
        var checkpointStep = startStep > 0 ? savedStep() : nil
        func updateNotice(at step: Int) {
            guard writes else { return }
            let every = checkpointEvery > 0 ? checkpointEvery : stepsPerEpoch
            let next = Swift.min((step / stepsPerEpoch + 1) * stepsPerEpoch, (step / every + 1) * every, totalSteps)
            TerminationNotice.set(TerminationNotice.text(step: step, totalSteps: totalSteps, checkpointPath: checkpointPath,
                                                         checkpointStep: checkpointStep, nextCheckpoint: next, ranks: self.step.communicator.size))
        }
        updateNotice(at: startStep)
        if writes { TerminationNotice.install() }
        defer { if writes { TerminationNotice.remove() } }

        var lastLoss: Float = .nan
        var time = LoopTime()
        var windowStart = Date(), windowImages = 0
        var windowWait = 0.0, windowCompute = 0.0, windowPreparation = 0.0   // seconds: waiting for data, running the step, preparing data
        let runStart = Date()
        var lastProgress = Date.distantPast
        var stepIndex = startStep
        while stepIndex < totalSteps {
            let waitStart = Date()
            let batch = batches.next()
            let computeStart = Date()
            let lr = step.learningRate.value(atStep: step.stepsTaken), tau = step.tau?.value(atStep: step.stepsTaken)
            let outputs = try step.run(batch.tensors)
            let waited = computeStart.timeIntervalSince(waitStart), computed = Date().timeIntervalSince(computeStart)
            windowWait += waited
            windowCompute += computed
            time.dataWait += waited
            time.steps += computed
            time.stepCount += 1
            windowPreparation += batch.preparationSeconds
            var scalars: [(name: String, value: Float)] = []
            for (name, output) in zip(outputNames, outputs) where output.scalars.count == 1 { scalars.append((name, output.scalars[0])) }
            for (name, value) in scalars where finiteOutputs.contains(name) && !value.isFinite {
                throw Diagnostic("the \(name) became \(value) at epoch \(batch.epoch + 1), step \(stepIndex + 1); training stopped. The last good checkpoint is \(checkpointPath) (\(manager.fileExists(atPath: checkpointPath) ? "kept" : "none was written yet")). Lower the learning rate or check the data.")
            }
            lastLoss = outputs[0].scalars[0]
            stepIndex += 1
            windowImages += batchSize
            let elapsed = Date().timeIntervalSince(windowStart)
            let rate = Double(windowImages) / Swift.max(elapsed, 1e-9)
            if stepIndex % 10 == 0 || stepIndex == totalSteps {
                // data_wait_fraction: the share of the window spent waiting for batches (all
                // of their preparation, unless the stream prefetches them while the step runs);
                // data_preparation_fraction: the time spent preparing a batch over the step's time.
                var record: [String: Any] = ["step": stepIndex, "epoch": batch.epoch + 1, "lr": lr, "images_per_second": rate,
                                             "step_seconds": windowCompute / Double(windowImages / batchSize),
                                             "data_wait_fraction": windowWait / Swift.max(windowWait + windowCompute, 1e-9),
                                             "data_preparation_fraction": windowPreparation / Swift.max(windowCompute, 1e-9)]
                for (name, value) in scalars { record[name] = Double(value) }
                if let tau { record["tau"] = tau }
                metrics?.write(record)
                windowStart = Date()
                windowImages = 0
                windowWait = 0
                windowCompute = 0
                windowPreparation = 0
            }
            // The progress line: at most every half second on a terminal, every 30 s in a log.
            let now = Date()
            if now.timeIntervalSince(lastProgress) >= (isatty(2) != 0 ? 0.5 : 30) || stepIndex == totalSteps {
                lastProgress = now
                let remaining = Double(totalSteps - stepIndex) * now.timeIntervalSince(runStart) / Double(stepIndex - startStep)
                progress(String(format: "epoch %d/%d  step %d/%d  %@  %.0f img/s  ETA %@", batch.epoch + 1, epochs, stepIndex, totalSteps,
                                scalars.prefix(1).map { String(format: "%@ %.4f", $0.name, $0.value) }.joined(), rate,
                                TrainingLoop.clock(remaining)))
            }
            let endOfEpoch = stepIndex % stepsPerEpoch == 0
            let stopping = stepIndex == stopAt
            // Replicas stop together: a Ctrl-C seen by any of them stops all at this step.
            var interrupted = interruptRequested != 0
            if step.communicator.size > 1 {
                var flag: [Float] = [interrupted ? 1 : 0]
                flag.withUnsafeMutableBufferPointer { step.communicator.allReduce($0.baseAddress!, count: 1, .sum) }
                interrupted = flag[0] > 0
            }
            if writes, endOfEpoch || (checkpointEvery > 0 && stepIndex % checkpointEvery == 0) || interrupted || stopping {
                let saveStart = Date()
                try step.save(to: checkpointPath, metadata: checkpointMetadata)
                time.checkpoints += Date().timeIntervalSince(saveStart)
                checkpointStep = stepIndex
            }
            updateNotice(at: stepIndex)
            if writes, endOfEpoch, let epochEnd {
                let epoch = stepIndex / stepsPerEpoch
                let measureStart = Date()
                let measured = try epochEnd(epoch)
                time.epochEnd += Date().timeIntervalSince(measureStart)
                if !measured.isEmpty {
                    var record: [String: Any] = ["step": stepIndex, "epoch": epoch]
                    for (name, value) in measured { record[name] = value }
                    metrics?.write(record)
                    progress("")
                    log("epoch \(epoch): " + ([("loss", Double(lastLoss))] + measured.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
                        .map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: ", "))
                }
            }
            if interrupted {
                log("\ninterrupted: saved \(checkpointPath) at step \(stepIndex); resume from it")
                throw TrainingInterrupted(step: stepIndex)
            }
            if stopping {
                if writes { try writePlots() }
                time.wall = Date().timeIntervalSince(runStart)
                log("\nstopped at step \(stepIndex) as asked; resume from \(checkpointPath)")
                log(time.summary)
                return lastLoss
            }
        }
        if writes { try writePlots() }
        time.wall = Date().timeIntervalSince(runStart)
        log("")
        log(time.summary)
        return lastLoss
    }

    /// The step held by the checkpoint at `checkpointPath`, if there is a readable one.
    private func savedStep() -> Int? {
        guard let checkpoint = try? Checkpoint.read(from: checkpointPath),
              let step = try? checkpoint.values(TrainingStep.stepKey, as: UInt64.self, from: checkpointPath).first else { return nil }
        return Int(step)
    }

    /// Draws `<out>/<metric>.svg` from the metrics log: the step's logged outputs
    /// (`outputNames`) and what `epochEnd` measured.
    public func writePlots() throws {
        let records = try MetricsLog.read(metricsPath)
        var keys = outputNames
        // The records `epochEnd` wrote hold only the step, the epoch and what it measured.
        for record in records where record["lr"] == nil && record["event"] == nil {
            for key in record.keys.sorted() where key != "step" && key != "epoch" && !keys.contains(key) { keys.append(key) }
        }
        for (name, svg) in SVGPlot.charts(metrics: records, keys: keys) {
            try svg.write(toFile: outputDirectory + "/" + name, atomically: true, encoding: .utf8)
        }
    }

    /// `seconds` as m:ss or h:mm:ss.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
                             : String(format: "%d:%02d", total / 60, total % 60)
    }
}

/// Thrown when Ctrl-C stopped training after saving a checkpoint.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var step: Int
    public var description: String { "training interrupted at step \(step); the checkpoint was saved" }
}
