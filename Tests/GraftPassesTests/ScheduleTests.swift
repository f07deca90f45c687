// The host-side schedules against hand-computed values.

import Testing
import GraftPasses

@Suite struct ScheduleTests {
    @Test func learningRateWarmsUpLinearlyThenDecaysByCosine() {
        let schedule = LearningRateSchedule(base: 0.4, warmupSteps: 10, totalSteps: 110)
        #expect(schedule.value(atStep: 0) == 0)
        #expect(Swift.abs(schedule.value(atStep: 5) - 0.2) < 1e-12)
        #expect(schedule.value(atStep: 10) == 0.4)
        #expect(Swift.abs(schedule.value(atStep: 60) - 0.2) < 1e-12)     // halfway through the cosine
        #expect(Swift.abs(schedule.value(atStep: 110)) < 1e-12)
        #expect(Swift.abs(schedule.value(atStep: 500)) < 1e-12)          // stays at 0 past the end
        #expect(LearningRateSchedule.byolBase(batchSize: 512) == 0.4)
    }

    @Test func tauFollowsBYOLsCosineFromBaseToOne() {
        let schedule = TargetDecaySchedule(base: 0.99, totalSteps: 100)
        #expect(Swift.abs(schedule.value(atStep: 0) - 0.99) < 1e-12)
        #expect(Swift.abs(schedule.value(atStep: 50) - 0.995) < 1e-12)
        #expect(Swift.abs(schedule.value(atStep: 100) - 1) < 1e-12)
        // (cos(π/4) + 1)/2 = 0.853553...: τ = 1 − 0.01·0.853553
        #expect(Swift.abs(schedule.value(atStep: 25) - (1 - 0.01 * 0.8535533905932737)) < 1e-12)
    }
}
