using System.Text.Json;
using AutoGlm.ModelBuilder.Safetensors;

namespace AutoGlm.ModelBuilder.Tests;

/// <summary>
/// The GLM forward pass written from the math with float64 loops, one sequence at a time, reading
/// config.json itself (so a config-reading mistake in the builder cannot hide in both sides).
/// </summary>
internal sealed class ReferenceGlmModel
{
    private readonly string _arch;
    private readonly int _hidden, _inter, _layers, _heads, _kvHeads, _headDim, _rotary, _vocab;
    private readonly double _theta, _eps;
    private readonly bool _bias;
    private readonly double[] _embed, _lmHead, _finalNorm;
    private readonly LayerWeights[] _w;

    /// <param name="directory">Checkpoint folder.</param>
    /// <param name="linearTransform">Applied to every projection matrix ([rows, cols] row-major), lm_head included (e.g. int4 quantise→dequantise).</param>
    /// <param name="embeddingTransform">Applied to the embedding table ([vocab, hidden]) as the graph's Gather sees it.</param>
    public ReferenceGlmModel(string directory, Func<double[], int, int, double[]>? linearTransform = null, Func<double[], int, int, double[]>? embeddingTransform = null)
    {
        Func<double[], int, int, double[]> t = linearTransform ?? ((w, _, _) => w);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "config.json")));
        JsonElement c = doc.RootElement;
        _arch = c.GetProperty("model_type").GetString()!;
        bool chat = _arch == "chatglm";
        _hidden = c.GetProperty("hidden_size").GetInt32();
        _heads = c.GetProperty("num_attention_heads").GetInt32();
        if (chat)
        {
            _inter = c.GetProperty("ffn_hidden_size").GetInt32();
            _layers = c.GetProperty("num_layers").GetInt32();
            _kvHeads = c.GetProperty("multi_query_group_num").GetInt32();
            _headDim = c.GetProperty("kv_channels").GetInt32();
            _rotary = _headDim / 2;
            _theta = 10000.0 * c.GetProperty("rope_ratio").GetDouble();
            _eps = c.GetProperty("layernorm_epsilon").GetDouble();
            _vocab = c.GetProperty("padded_vocab_size").GetInt32();
            _bias = c.GetProperty("add_qkv_bias").GetBoolean();
        }
        else
        {
            _inter = c.GetProperty("intermediate_size").GetInt32();
            _layers = c.GetProperty("num_hidden_layers").GetInt32();
            _kvHeads = c.GetProperty("num_key_value_heads").GetInt32();
            _headDim = c.GetProperty("head_dim").GetInt32();
            _rotary = (int)Math.Round(_headDim * c.GetProperty("partial_rotary_factor").GetDouble());
            _theta = c.GetProperty("rope_theta").GetDouble();
            _eps = c.GetProperty("rms_norm_eps").GetDouble();
            _vocab = c.GetProperty("vocab_size").GetInt32();
            _bias = c.GetProperty("attention_bias").GetBoolean();
        }

        bool tied = !chat && c.GetProperty("tie_word_embeddings").GetBoolean();
        using SafetensorsCheckpoint ck = SafetensorsCheckpoint.Open(directory);
        double[] Read(string name) => ck.ReadFloats(name).Select(f => (double)f).ToArray();
        int q = _heads * _headDim, kv = _kvHeads * _headDim;
        string p = chat ? "transformer.encoder.layers." : "model.layers.";
        _embed = Read(chat ? "transformer.embedding.word_embeddings.weight" : "model.embed_tokens.weight");
        _finalNorm = Read(chat ? "transformer.encoder.final_layernorm.weight" : "model.norm.weight");
        _lmHead = t(tied ? _embed : Read(chat ? "transformer.output_layer.weight" : "lm_head.weight"), _vocab, _hidden);
        if (embeddingTransform is not null)
        {
            _embed = embeddingTransform(_embed, _vocab, _hidden);
        }
        _w = new LayerWeights[_layers];
        for (int i = 0; i < _layers; i++)
        {
            string l = p + i + ".";
            var lw = new LayerWeights { InputNorm = Read(l + "input_layernorm.weight"), PostAttnNorm = Read(l + "post_attention_layernorm.weight") };
            if (chat)
            {
                lw.Qkv = t(Read(l + "self_attention.query_key_value.weight"), q + (2 * kv), _hidden);
                lw.QkvBias = _bias ? Read(l + "self_attention.query_key_value.bias") : null;
                lw.O = t(Read(l + "self_attention.dense.weight"), _hidden, q);
                lw.GateUp = t(Read(l + "mlp.dense_h_to_4h.weight"), 2 * _inter, _hidden);
                lw.Down = t(Read(l + "mlp.dense_4h_to_h.weight"), _hidden, _inter);
            }
            else
            {
                lw.Qkv = t(Read(l + "self_attn.q_proj.weight"), q, _hidden)
                    .Concat(t(Read(l + "self_attn.k_proj.weight"), kv, _hidden))
                    .Concat(t(Read(l + "self_attn.v_proj.weight"), kv, _hidden)).ToArray();
                lw.QkvBias = _bias ? Read(l + "self_attn.q_proj.bias").Concat(Read(l + "self_attn.k_proj.bias")).Concat(Read(l + "self_attn.v_proj.bias")).ToArray() : null;
                lw.O = t(Read(l + "self_attn.o_proj.weight"), _hidden, q);
                lw.GateUp = t(Read(l + "mlp.gate_up_proj.weight"), 2 * _inter, _hidden);
                lw.Down = t(Read(l + "mlp.down_proj.weight"), _hidden, _inter);
                if (_arch == "glm4")
                {
                    lw.PostSelfAttnNorm = Read(l + "post_self_attn_layernorm.weight");
                    lw.PostMlpNorm = Read(l + "post_mlp_layernorm.weight");
                }
            }

            _w[i] = lw;
        }
    }

    public int VocabSize => _vocab;

    public Sequence NewSequence() => new(this);

    private sealed class LayerWeights
    {
        public double[] InputNorm = [], PostAttnNorm = [], Qkv = [], O = [], GateUp = [], Down = [];
        public double[]? QkvBias, PostSelfAttnNorm, PostMlpNorm;
    }

    /// <summary>One sequence with its own KV cache; <see cref="Step"/> feeds one token and returns its logits.</summary>
    internal sealed class Sequence
    {
        private readonly ReferenceGlmModel _m;
        private readonly List<double[]>[] _keys, _values;

        public Sequence(ReferenceGlmModel m)
        {
            _m = m;
            _keys = Enumerable.Range(0, m._layers).Select(_ => new List<double[]>()).ToArray();
            _values = Enumerable.Range(0, m._layers).Select(_ => new List<double[]>()).ToArray();
        }

        public int Length => _keys[0].Count;

        public double[][] Feed(IEnumerable<long> tokens) => tokens.Select(Step).ToArray();

        public double[] Step(long token)
        {
            ReferenceGlmModel m = _m;
            int pos = Length;
            int q = m._heads * m._headDim, kv = m._kvHeads * m._headDim;
            double[] x = m._embed.AsSpan((int)token * m._hidden, m._hidden).ToArray();
            for (int layer = 0; layer < m._layers; layer++)
            {
                LayerWeights w = m._w[layer];
                double[] h = RmsNorm(x, w.InputNorm, m._eps);
                double[] qkv = MatVec(w.Qkv, h, q + (2 * kv));
                if (w.QkvBias is not null)
                {
                    for (int i = 0; i < qkv.Length; i++)
                    {
                        qkv[i] += w.QkvBias[i];
                    }
                }

                for (int head = 0; head < m._heads + m._kvHeads; head++)
                {
                    Rotate(qkv, head * m._headDim, pos);
                }

                _keys[layer].Add(qkv.AsSpan(q, kv).ToArray());
                _values[layer].Add(qkv.AsSpan(q + kv, kv).ToArray());
                double[] attn = new double[q];
                int group = m._heads / m._kvHeads;
                double scale = 1.0 / Math.Sqrt(m._headDim);
                for (int head = 0; head < m._heads; head++)
                {
                    int g = head / group;
                    double[] scores = new double[pos + 1];
                    for (int t = 0; t <= pos; t++)
                    {
                        double s = 0;
                        for (int d = 0; d < m._headDim; d++)
                        {
                            s += qkv[(head * m._headDim) + d] * _keys[layer][t][(g * m._headDim) + d];
                        }

                        scores[t] = s * scale;
                    }

                    double max = scores.Max();
                    double sum = 0;
                    for (int t = 0; t <= pos; t++)
                    {
                        scores[t] = Math.Exp(scores[t] - max);
                        sum += scores[t];
                    }

                    for (int t = 0; t <= pos; t++)
                    {
                        for (int d = 0; d < m._headDim; d++)
                        {
                            attn[(head * m._headDim) + d] += scores[t] / sum * _values[layer][t][(g * m._headDim) + d];
                        }
                    }
                }

                double[] o = MatVec(w.O, attn, m._hidden);
                if (w.PostSelfAttnNorm is not null)
                {
                    o = RmsNorm(o, w.PostSelfAttnNorm, m._eps);
                }

                for (int i = 0; i < x.Length; i++)
                {
                    x[i] += o[i];
                }

                double[] h2 = RmsNorm(x, w.PostAttnNorm, m._eps);
                double[] gu = MatVec(w.GateUp, h2, 2 * m._inter);
                double[] act = new double[m._inter];
                for (int i = 0; i < m._inter; i++)
                {
                    double gate = gu[i];
                    act[i] = gu[m._inter + i] * gate / (1 + Math.Exp(-gate));
                }

                double[] down = MatVec(w.Down, act, m._hidden);
                if (w.PostMlpNorm is not null)
                {
                    down = RmsNorm(down, w.PostMlpNorm, m._eps);
                }

                for (int i = 0; i < x.Length; i++)
                {
                    x[i] += down[i];
                }
            }

            return MatVec(m._lmHead, RmsNorm(x, m._finalNorm, m._eps), m._vocab);
        }

        // Interleaved pairs on the first R channels: out[2i] = x[2i]c − x[2i+1]s, out[2i+1] = x[2i+1]c + x[2i]s.
        private void Rotate(double[] v, int offset, int pos)
        {
            int r = _m._rotary;
            for (int i = 0; i < r / 2; i++)
            {
                double angle = pos * Math.Pow(_m._theta, -2.0 * i / r);
                double c = Math.Cos(angle), s = Math.Sin(angle);
                double a = v[offset + (2 * i)], b = v[offset + (2 * i) + 1];
                v[offset + (2 * i)] = (a * c) - (b * s);
                v[offset + (2 * i) + 1] = (b * c) + (a * s);
            }
        }

        private static double[] RmsNorm(double[] x, double[] w, double eps)
        {
            double ms = x.Sum(v => v * v) / x.Length;
            double inv = 1.0 / Math.Sqrt(ms + eps);
            return x.Select((v, i) => v * inv * w[i]).ToArray();
        }

        private static double[] MatVec(double[] w, double[] x, int rows)
        {
            int cols = x.Length;
            var y = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                double s = 0;
                int o = r * cols;
                for (int c = 0; c < cols; c++)
                {
                    s += w[o + c] * x[c];
                }

                y[r] = s;
            }

            return y;
        }
    }
}
