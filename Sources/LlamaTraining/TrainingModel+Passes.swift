import LlamaCore
import LlamaModel

extension TrainingModel {
    /// Forward over the loaded batch, keeping activations; returns the mean loss.
    func forward() -> Float {
        let config = configuration
        let rows = rowCount, d = config.hiddenSize, h = config.intermediateSize, length = sequenceLength
        let epsilon = config.rmsNormEpsilon
        let position: (Int) -> Int = { $0 % length }
        Embedding.forward(output: layers.isEmpty ? finalResidual.floats : layers[0].input.floats,
                          tokens: UnsafeBufferPointer(start: tokenPointer, count: rows), table: weights.tokenEmbedding)
        for (index, (layer, a)) in zip(weights.layers, layers).enumerated() {
            RMSNorm.forward(output: a.attentionNormed.floats, input: a.input.floats, weight: layer.attentionNorm.floats,
                            rows: rows, dimension: d, epsilon: epsilon, inverseRMS: a.attentionInverseRMS.floats)
            Linear.forwardSplit(output: a.query.floats, input: a.attentionNormed.floats, weight: layer.queryProjection, rows: rows)
            Linear.forwardSplit(output: a.key.floats, input: a.attentionNormed.floats, weight: layer.keyProjection, rows: rows)
            Linear.forwardSplit(output: a.value.floats, input: a.attentionNormed.floats, weight: layer.valueProjection, rows: rows)
            rotary.apply(a.query.floats, rows: rows, headCount: config.headCount, position: position)
            rotary.apply(a.key.floats, rows: rows, headCount: config.keyValueHeadCount, position: position)
            CausalAttention.forward(output: a.attended.floats, logSumExp: a.logSumExp.floats, query: a.query.floats,
                                    key: a.key.floats, value: a.value.floats, batch: batchSize, length: length,
                                    headCount: config.headCount, keyValueHeadCount: config.keyValueHeadCount,
                                    headDimension: config.headDimension)
            a.middle.floats.update(from: a.input.floats, count: rows * d)
            Linear.forwardSplit(output: a.middle.floats, input: a.attended.floats, weight: layer.outputProjection, rows: rows, accumulate: true)
            RMSNorm.forward(output: a.feedForwardNormed.floats, input: a.middle.floats, weight: layer.feedForwardNorm.floats,
                            rows: rows, dimension: d, epsilon: epsilon, inverseRMS: a.feedForwardInverseRMS.floats)
            Linear.forwardSplit(output: a.gate.floats, input: a.feedForwardNormed.floats, weight: layer.gateProjection, rows: rows)
            Linear.forwardSplit(output: a.up.floats, input: a.feedForwardNormed.floats, weight: layer.upProjection, rows: rows)
            SwiGLU.forward(output: a.activated.floats, gate: a.gate.floats, up: a.up.floats, count: rows * h)
            let next = index + 1 < layers.count ? layers[index + 1].input : finalResidual
            next.floats.update(from: a.middle.floats, count: rows * d)
            Linear.forwardSplit(output: next.floats, input: a.activated.floats, weight: layer.downProjection, rows: rows, accumulate: true)
        }
        RMSNorm.forward(output: finalNormed.floats, input: finalResidual.floats, weight: weights.finalNorm.floats,
                        rows: rows, dimension: d, epsilon: epsilon, inverseRMS: finalInverseRMS.floats)
        Linear.forwardSplit(output: logits.floats, input: finalNormed.floats, weight: weights.outputProjection, rows: rows)
        return CrossEntropy.forward(losses: losses.floats, logits: logits.floats, targets: targetPointer,
                                    rows: rows, vocabularySize: config.vocabularySize)
    }

    /// Backward of the last `forward`, adding lossScale · ∂(mean loss)/∂θ into `gradients`.
    /// Overwrites the logits with their gradient. Reports each finished gradient bucket
    /// (`FlatParameters.backwardBuckets`, in that order) to `bucketReady`.
    func backward(lossScale: Float, bucketReady: ((Range<Int>) -> Void)? = nil) {
        let buckets = bucketReady == nil ? [] : gradientStorage.backwardBuckets
        defer { for bucket in buckets.suffix(1) { bucketReady?(bucket) } }
        let config = configuration
        let rows = rowCount, d = config.hiddenSize, h = config.intermediateSize, length = sequenceLength
        let epsilon = config.rmsNormEpsilon
        let position: (Int) -> Int = { $0 % length }
        var counted = 0
        for i in 0..<rows where targetPointer[i] >= 0 { counted += 1 }
        guard counted > 0 else {
            for bucket in buckets.dropLast() { bucketReady?(bucket) }
            return
        }
        CrossEntropy.backward(scale: lossScale / Float(counted), logitsGradient: logits.floats, logits: logits.floats,
                              targets: targetPointer, rows: rows, vocabularySize: config.vocabularySize)
        zero(normedGradient)
        Linear.backward(outputGradient: logits.floats, inputGradient: normedGradient.floats, input: finalNormed.floats,
                        weight: weights.outputProjection, weightGradient: gradients.outputProjection, rows: rows)
        zero(residualGradient)
        RMSNorm.backward(outputGradient: normedGradient.floats, inputGradient: residualGradient.floats, input: finalResidual.floats,
                         weight: weights.finalNorm.floats, weightGradient: gradients.finalNorm.floats, rows: rows,
                         dimension: d, inverseRMS: finalInverseRMS.floats)
        if let first = buckets.first { bucketReady?(first) }
        for index in stride(from: layers.count - 1, through: 0, by: -1) {
            let a = layers[index], layer = weights.layers[index], grad = gradients.layers[index]
            // Feed-forward half: next = middle + down(silu(gate(n2)) ⊙ up(n2)), n2 = norm(middle).
            if checkpointsActivations {
                RMSNorm.forward(output: a.feedForwardNormed.floats, input: a.middle.floats, weight: layer.feedForwardNorm.floats,
                                rows: rows, dimension: d, epsilon: epsilon)
                SwiGLU.forward(output: a.activated.floats, gate: a.gate.floats, up: a.up.floats, count: rows * h)
            }
            zero(activatedGradient)
            Linear.backward(outputGradient: residualGradient.floats, inputGradient: activatedGradient.floats,
                            input: a.activated.floats, weight: layer.downProjection, weightGradient: grad.downProjection, rows: rows)
            zero(gateGradient)
            zero(upGradient)
            SwiGLU.backward(outputGradient: activatedGradient.floats, gateGradient: gateGradient.floats,
                            upGradient: upGradient.floats, gate: a.gate.floats, up: a.up.floats, count: rows * h)
            zero(normedGradient)
            Linear.backward(outputGradient: gateGradient.floats, inputGradient: normedGradient.floats,
                            input: a.feedForwardNormed.floats, weight: layer.gateProjection, weightGradient: grad.gateProjection, rows: rows)
            Linear.backward(outputGradient: upGradient.floats, inputGradient: normedGradient.floats,
                            input: a.feedForwardNormed.floats, weight: layer.upProjection, weightGradient: grad.upProjection, rows: rows)
            RMSNorm.backward(outputGradient: normedGradient.floats, inputGradient: residualGradient.floats, input: a.middle.floats,
                             weight: layer.feedForwardNorm.floats, weightGradient: grad.feedForwardNorm.floats, rows: rows,
                             dimension: d, inverseRMS: a.feedForwardInverseRMS.floats)
            // Attention half: middle = input + o(attention(rope(q(n1)), rope(k(n1)), v(n1))), n1 = norm(input).
            if checkpointsActivations {
                RMSNorm.forward(output: a.attentionNormed.floats, input: a.input.floats, weight: layer.attentionNorm.floats,
                                rows: rows, dimension: d, epsilon: epsilon)
            }
            zero(attendedGradient)
            Linear.backward(outputGradient: residualGradient.floats, inputGradient: attendedGradient.floats,
                            input: a.attended.floats, weight: layer.outputProjection, weightGradient: grad.outputProjection, rows: rows)
            zero(queryGradient)
            zero(keyGradient)
            zero(valueGradient)
            CausalAttention.backward(outputGradient: attendedGradient.floats, queryGradient: queryGradient.floats,
                                     keyGradient: keyGradient.floats, valueGradient: valueGradient.floats,
                                     output: a.attended.floats, logSumExp: a.logSumExp.floats, query: a.query.floats,
                                     key: a.key.floats, value: a.value.floats, batch: batchSize, length: length,
                                     headCount: config.headCount, keyValueHeadCount: config.keyValueHeadCount,
                                     headDimension: config.headDimension)
            rotary.backward(queryGradient.floats, rows: rows, headCount: config.headCount, position: position)
            rotary.backward(keyGradient.floats, rows: rows, headCount: config.keyValueHeadCount, position: position)
            zero(normedGradient)
            Linear.backward(outputGradient: queryGradient.floats, inputGradient: normedGradient.floats,
                            input: a.attentionNormed.floats, weight: layer.queryProjection, weightGradient: grad.queryProjection, rows: rows)
            Linear.backward(outputGradient: keyGradient.floats, inputGradient: normedGradient.floats,
                            input: a.attentionNormed.floats, weight: layer.keyProjection, weightGradient: grad.keyProjection, rows: rows)
            Linear.backward(outputGradient: valueGradient.floats, inputGradient: normedGradient.floats,
                            input: a.attentionNormed.floats, weight: layer.valueProjection, weightGradient: grad.valueProjection, rows: rows)
            RMSNorm.backward(outputGradient: normedGradient.floats, inputGradient: residualGradient.floats, input: a.input.floats,
                             weight: layer.attentionNorm.floats, weightGradient: grad.attentionNorm.floats, rows: rows,
                             dimension: d, inverseRMS: a.attentionInverseRMS.floats)
            if buckets.count > layers.count - index { bucketReady?(buckets[layers.count - index]) }
        }
        Embedding.backward(outputGradient: residualGradient.floats, tokens: UnsafeBufferPointer(start: tokenPointer, count: rows),
                           tableGradient: gradients.tokenEmbedding)
    }

    private func zero(_ tensor: Tensor) {
        tensor.floats.update(repeating: 0, count: tensor.count)
    }
}
