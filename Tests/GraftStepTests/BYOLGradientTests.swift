// The gradient of byol-t's whole loss against finite differences, for a sample of its params.

import Testing
import GraftDSL
import GraftPasses
import GraftInterpreter
import GraftModels

@Suite struct BYOLGradientTests {
    /// A param of each kind and depth: stem and shortcut convolutions, a BatchNorm scale deep in
    /// the encoder, a projector bias and weight, a predictor weight.
    static let sample = [
        "online.encoder.stem.conv.weight", "online.encoder.stage2.block0.shortcut.conv.weight",
        "online.encoder.stage3.block0.bn2.weight", "online.projector.bn.bias", "online.projector.fc2.weight",
        "online.predictor.fc1.weight",
    ]

    @Test func gradientMatchesCentralDifferencesAlongTwoDirections() throws {
        // byol-t's architecture on 12×12 images, so that the interpreter runs the 25 forward
        // passes quickly.
        var config = BYOLConfig.tiny
        config.imageSize = 12
        let traced = try BYOL.trace(config, batchSize: 4, seed: 6)
        let inputs = views(batch: 4, seed: 11, size: 12)
        var lossGraph = traced.graph
        try PassManager([MakeTarget()]).run(&lossGraph)
        let initialValues = lossGraph.initialValues(seed: 6)
        var withGradients = lossGraph
        try PassManager([Autodiff()]).run(&withGradients)

        let interpreter = Interpreter()
        let outputs = try interpreter.run(withGradients, inputs: inputs, variables: initialValues).outputs
        let gradients = Dictionary(uniqueKeysWithValues: withGradients.gradients.map { ($0.param, outputs[$0.output].scalars) })
        func loss(_ variables: [String: HostTensor]) throws -> Double {
            Double(try interpreter.run(lossGraph, inputs: inputs, variables: variables).outputs[0].scalars[0])
        }

        // Central differences along unit directions. The step is small, h = 1e-4, because
        // BatchNorm over 4 samples and ReLU kinks make this loss sharply curved: measured along
        // the stem's gradient, h = 1e-1, 1e-2, 1e-3, 1e-4 give slopes 2.5, 6.6, 9.95, 10.2496
        // against autodiff's 10.2506. At h = 1e-4 the f32 rounding of the loss (≈ 4·1.2e-7,
        // a few ulps through ~40 layers) costs ~2.5e-3 in the slope, so
        // |autodiff − fd| ≤ 2e-3 + 1e-2·‖g‖ holds with margin, while a wrong rule (a dropped
        // term, a wrong transpose or sign) misses by far more than 1% of the gradient norm.
        let h = 1e-4
        var generator = SplitMix64(seed: 99)
        for name in Self.sample {
            let g = try #require(gradients[name]).map(Double.init)
            let gradientNorm = g.map { $0 * $0 }.reduce(0, +).squareRoot()
            #expect(gradientNorm > 1e-4, "\(name): gradient is ~0, the check would be vacuous")
            let random = g.map { _ in generator.nextNormal() }
            for direction in [g, zip(g.map { $0 / gradientNorm }, random).map { $0 + $1 / Double(g.count).squareRoot() }] {
                let length = direction.map { $0 * $0 }.reduce(0, +).squareRoot()
                let unit = direction.map { $0 / length }
                let base = try #require(initialValues[name])
                var plus = initialValues, minus = initialValues
                plus[name] = HostTensor(base.type, zip(base.scalars, unit).map { Float(Double($0) + h * $1) })
                minus[name] = HostTensor(base.type, zip(base.scalars, unit).map { Float(Double($0) - h * $1) })
                let finiteDifference = (try loss(plus) - loss(minus)) / (2 * h)
                let analytic = zip(g, unit).map { $0 * $1 }.reduce(0, +)
                #expect(Swift.abs(analytic - finiteDifference) <= 2e-3 + 1e-2 * gradientNorm,
                        "\(name): autodiff \(analytic), finite difference \(finiteDifference), ‖g‖ \(gradientNorm)")
            }
        }
    }
}
