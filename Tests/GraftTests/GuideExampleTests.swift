// The model from Docs/DSL.md, kept here so the guide's example is known to compile and run.

import Testing
import GraftDSL
import GraftInterpreter

/// A small CNN classifier for 28×28 grayscale images (Docs/DSL.md).
struct SmallCNN: Layer {
    let conv1: Conv2D, bn1: BatchNorm
    let conv2: Conv2D, bn2: BatchNorm
    let head: Linear

    init(_ scope: Scope) {
        conv1 = Conv2D(scope("conv1"), inputChannels: 1, outputChannels: 16, kernelSize: 3, padding: 1)
        bn1 = BatchNorm(scope("bn1"), features: 16)
        conv2 = Conv2D(scope("conv2"), inputChannels: 16, outputChannels: 32, kernelSize: 3, stride: 2, padding: 1)
        bn2 = BatchNorm(scope("bn2"), features: 32)
        head = Linear(scope("head"), inputSize: 32, outputSize: 10)
    }

    func forward(_ x: Tensor) -> Tensor {
        let h = relu(bn1(conv1(x)))
        let features = GlobalAveragePool()(relu(bn2(conv2(h))))
        return head(features)
    }
}

@Suite struct GuideExampleTests {
    @Test func theGuidesCNNTracesAndRuns() throws {
        let batch = 4
        let traced = try trace("small_cnn", seed: 0) { g in
            let images = g.input("images", shape: [batch, 1, 28, 28])
            let labels = g.input("labels", TensorType(.i32, [batch]))
            let model = SmallCNN(g.scope("net"))
            return [softmaxCrossEntropy(logits: model(images), labels: labels)]
        }
        #expect(traced.graph.params.count == 8)   // two convolutions, two BatchNorms (scale, offset), the head (weight, bias)
        let images = HostTensor(shape: [batch, 1, 28, 28], (0..<(batch * 784)).map { Float($0 % 29) / 29 })
        let labels = HostTensor(TensorType(.i32, [batch]), [0, 3, 7, 9])
        let loss = try Interpreter().run(traced.graph, inputs: ["images": images, "labels": labels],
                                         variables: traced.initialValues).outputs[0].scalars[0]
        // An untrained 10-way classifier: the loss is near log 10 = 2.30.
        #expect(loss > 1 && loss < 4)
    }
}
