// Encoder: the representation y = f(x) alone, in inference mode, for evaluation.

import GraftDSL

/// The online encoder on its own: what BYOL keeps after training.
public enum EncoderFeatures {
    /// Traces `f` in inference mode (BatchNorm uses its running statistics): input `%images`
    /// `f32[B, C, H, W]`, output the pooled features `f32[B, D]`. Params and state are named
    /// `online.encoder.*`, as in the BYOL and supervised models, so a trained model's values
    /// load into it by name.
    public static func trace(_ encoder: ResNetConfig, imageSize: Int = 28, batchSize: Int, name: String = "encoder") throws -> TracedGraph {
        try GraftDSL.trace(name, training: false) { g in
            let images = g.input("images", shape: [batchSize, encoder.inputChannels, imageSize, imageSize])
            return [ResNet(g.scope("online")("encoder"), config: encoder)(images)]
        }
    }
}
