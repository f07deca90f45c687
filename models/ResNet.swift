// ResNet: the small residual encoders of the reference configurations (ResNet-S, ResNet-T).

import GraftDSL

/// The shape of a small ResNet encoder for 28×28 images.
public struct ResNetConfig: Sendable, Hashable {
    /// Channels of the input image.
    public var inputChannels: Int
    /// Channels after the stem convolution.
    public var stemWidth: Int
    /// Channels of each stage; every stage after the first halves the resolution.
    public var stageWidths: [Int]
    /// BasicBlocks per stage.
    public var blocksPerStage: [Int]
    /// Channels of a 1×1 conv → BN → ReLU after the last stage, before the pool (nil: none).
    /// Widens the representation for a fraction of a wider last stage's cost: at 7×7 its
    /// multiply-adds are 1/9 of a 3×3 convolution's of the same widths.
    public var expansionWidth: Int? = nil

    /// ResNet-S of byol-s: stem 32, stages 32/64/128 with two blocks each → 128-d features.
    public static let small = ResNetConfig(inputChannels: 1, stemWidth: 32, stageWidths: [32, 64, 128], blocksPerStage: [2, 2, 2])
    /// ResNet-T of byol-t: stem 16, stages 16/32/64 with one block each → 64-d features.
    public static let tiny = ResNetConfig(inputChannels: 1, stemWidth: 16, stageWidths: [16, 32, 64], blocksPerStage: [1, 1, 1])

    /// ResNet-T256 of byol-t256 (`make train`'s): ResNet-T, then a 1×1 expansion → 256-d features.
    public static let tiny256 = tiny.expanded(to: 256)
    /// ResNet-T512 of byol-t512: ResNet-T, then a 1×1 expansion → 512-d features.
    public static let tiny512 = tiny.expanded(to: 512)

    /// This encoder with a 1×1 expansion to `width` channels before the pool.
    public func expanded(to width: Int) -> ResNetConfig {
        var config = self
        config.expansionWidth = width
        return config
    }

    /// Size of the pooled representation y.
    public var featureSize: Int { expansionWidth ?? stageWidths.last ?? stemWidth }
}

/// conv3x3-BN-ReLU-conv3x3-BN plus a shortcut (identity, or conv1x1 + BN when the stride or
/// width changes), then ReLU.
public struct BasicBlock: Layer {
    let conv1: Conv2D
    let bn1: BatchNorm
    let conv2: Conv2D
    let bn2: BatchNorm
    let shortcut: (conv: Conv2D, bn: BatchNorm)?

    public init(_ scope: Scope, inputChannels: Int, outputChannels: Int, stride: Int) {
        conv1 = Conv2D(scope("conv1"), inputChannels: inputChannels, outputChannels: outputChannels,
                       kernelSize: 3, stride: stride, padding: 1)
        bn1 = BatchNorm(scope("bn1"), features: outputChannels)
        conv2 = Conv2D(scope("conv2"), inputChannels: outputChannels, outputChannels: outputChannels,
                       kernelSize: 3, padding: 1)
        bn2 = BatchNorm(scope("bn2"), features: outputChannels)
        if stride != 1 || inputChannels != outputChannels {
            shortcut = (Conv2D(scope("shortcut")("conv"), inputChannels: inputChannels, outputChannels: outputChannels,
                               kernelSize: 1, stride: stride),
                        BatchNorm(scope("shortcut")("bn"), features: outputChannels))
        } else {
            shortcut = nil
        }
    }

    public func forward(_ x: Tensor) -> Tensor {
        let residual = bn2(conv2(relu(bn1(conv1(x)))))
        let skip = shortcut.map { $0.bn($0.conv(x)) } ?? x
        return relu(residual + skip)
    }
}

/// The encoder f: stem conv3x3 → BN → ReLU, stages of BasicBlocks, optionally a conv1x1 → BN
/// → ReLU expansion, global average pool → y.
///
/// - Params: `<scope>.stem.conv.weight`, `<scope>.stem.bn.*`,
///   `<scope>.stage<i>.block<j>.{conv1,bn1,conv2,bn2,shortcut.conv,shortcut.bn}.*` (stages
///   from 1, blocks from 0), `<scope>.expansion.{conv,bn}.*` with an expansion.
public struct ResNet: Layer {
    let stemConv: Conv2D
    let stemNorm: BatchNorm
    let blocks: [BasicBlock]
    let expansion: (conv: Conv2D, bn: BatchNorm)?
    let pool = GlobalAveragePool()

    public init(_ scope: Scope, config: ResNetConfig) {
        stemConv = Conv2D(scope("stem")("conv"), inputChannels: config.inputChannels, outputChannels: config.stemWidth,
                          kernelSize: 3, padding: 1)
        stemNorm = BatchNorm(scope("stem")("bn"), features: config.stemWidth)
        var blocks: [BasicBlock] = []
        var channels = config.stemWidth
        for (stage, width) in config.stageWidths.enumerated() {
            for index in 0..<config.blocksPerStage[stage] {
                let stride = stage > 0 && index == 0 ? 2 : 1
                blocks.append(BasicBlock(scope("stage\(stage + 1)")("block\(index)"),
                                         inputChannels: channels, outputChannels: width, stride: stride))
                channels = width
            }
        }
        self.blocks = blocks
        expansion = config.expansionWidth.map { width in
            (Conv2D(scope("expansion")("conv"), inputChannels: channels, outputChannels: width, kernelSize: 1),
             BatchNorm(scope("expansion")("bn"), features: width))
        }
    }

    public func forward(_ x: Tensor) -> Tensor {
        var h = relu(stemNorm(stemConv(x)))
        for block in blocks {
            h = block(h)
        }
        if let expansion {
            h = relu(expansion.bn(expansion.conv(h)))
        }
        return pool(h)
    }
}
