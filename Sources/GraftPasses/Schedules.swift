// Schedules: the host-side values a training step takes as scalar inputs (%learning_rate, %tau).
//
// Both are functions of the optimizer step k (never of micro-batches), as in BYOL's official
// code, so gradient accumulation cannot skew them.

import Foundation

/// Linear warm-up from 0 to `base` over `warmupSteps`, then cosine decay to 0 at `totalSteps`.
public struct LearningRateSchedule: Sendable, Hashable {
    public var base: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(base: Double, warmupSteps: Int, totalSteps: Int) {
        precondition(totalSteps > 0 && warmupSteps >= 0, "LearningRateSchedule: totalSteps must be positive and warmupSteps non-negative")
        self.base = base
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// BYOL's default base learning rate for LARS: 0.2 × batch / 256.
    public static func byolBase(batchSize: Int) -> Double { 0.2 * Double(batchSize) / 256 }

    /// The learning rate at optimizer step `step` (from 0).
    public func value(atStep step: Int) -> Double {
        if step < warmupSteps { return base * Double(step) / Double(warmupSteps) }
        let decaySteps = Swift.max(totalSteps - warmupSteps, 1)
        let progress = Swift.min(Double(step - warmupSteps) / Double(decaySteps), 1)
        return base * 0.5 * (1 + cos(Double.pi * progress))
    }
}

/// BYOL's target decay: τ = 1 − (1 − τ_base)·(cos(πk/K) + 1)/2, from τ_base at k = 0 to 1 at K.
public struct TargetDecaySchedule: Sendable, Hashable {
    public var base: Double
    public var totalSteps: Int

    public init(base: Double, totalSteps: Int) {
        precondition(totalSteps > 0, "TargetDecaySchedule: totalSteps must be positive")
        self.base = base
        self.totalSteps = totalSteps
    }

    /// τ at optimizer step `step` (from 0).
    public func value(atStep step: Int) -> Double {
        let progress = Swift.min(Double(step) / Double(totalSteps), 1)
        return 1 - (1 - base) * (cos(Double.pi * progress) + 1) / 2
    }
}
