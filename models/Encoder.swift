// Encoder: the representation y = f(x) alone, in inference mode, for evaluation.

import GraftDSL

/// An encoder on its own: what BYOL keeps after training.
public enum EncoderFeatures {
    /// Traces the encoder `encoder` declares in inference mode (BatchNorm uses its running
    /// statistics): input `%images` (`f32[B, C, H, W]`, `imageShape` = [C, H, W]), output its
    /// features. Params and state are named `online.encoder.*`, as in the BYOL and supervised
    /// models, so a trained model's values load into it by name.
    public static func trace(imageShape: [Int], batchSize: Int, name: String = "encoder",
                             encoder: (Scope) -> any Layer) throws -> TracedGraph {
        try GraftDSL.trace(name, training: false) { g in
            let images = g.input("images", shape: [batchSize] + imageShape)
            let network = encoder(g.scope("online")("encoder"))
            return [network(images)]
        }
    }

    /// The ResNet encoder of `config` on `imageSize`×`imageSize` images: output `f32[B, D]`.
    public static func trace(_ config: ResNetConfig, imageSize: Int = 28, batchSize: Int, name: String = "encoder") throws -> TracedGraph {
        try trace(imageShape: [config.inputChannels, imageSize, imageSize], batchSize: batchSize, name: name) { scope in
            ResNet(scope, config: config)
        }
    }
}
