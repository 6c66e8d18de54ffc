using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Serverless.Pipeline.Training;

/// <summary>
/// A multiclass voting ensemble: each member's pipeline, its class probabilities (<c>Score</c>) copied aside, then
/// their weighted average as <c>Score</c> and its most probable class as <c>PredictedLabel</c>, the columns one
/// multiclass model writes. Its members share the label's key order (they train on the same rows), so their slots line
/// up. ML.NET cannot save the averaging step (a custom mapping), so <see cref="ModelArtifact"/> saves the members.
/// </summary>
internal sealed class MulticlassEnsemble : ITransformer
{
    private readonly ITransformer _chain;

    /// <summary>Builds the ensemble over fitted members; <paramref name="input"/> has the members' input schema (it may be empty).</summary>
    public MulticlassEnsemble(MLContext ml, IReadOnlyList<ITransformer> members, IReadOnlyList<double> weights, IDataView input)
    {
        Members = members;
        Weights = weights;
        var (parts, view, columns) = EnsembleEstimator.EachAside(ml, members, input, "Score");

        var concatenate = ml.Transforms.Concatenate(nameof(MemberScores.Scores), [.. columns]).Fit(view);
        view = concatenate.Transform(view);
        parts.Add(concatenate);

        var width = ((VectorDataViewType)view.Schema["Score"].Type).Size;
        var keys = default(VBuffer<ReadOnlyMemory<char>>);
        view.Schema["Label"].GetKeyValues(ref keys);
        string[] classes = [.. keys.DenseValues().Select(k => k.ToString())];
        var inputs = SchemaDefinition.Create(typeof(MemberScores));
        inputs[nameof(MemberScores.Scores)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width * members.Count);
        var outputs = SchemaDefinition.Create(typeof(Combined));
        outputs[nameof(Combined.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        float[] shares = [.. weights.Select(w => (float)w)];
        var average = ml.Transforms.CustomMapping<MemberScores, Combined>(
            (source, target) => Combine(source.Scores, shares, classes, target), null, inputs, outputs);
        parts.Add(average.Fit(view));
        _chain = new TransformerChain<ITransformer>([.. parts]);
    }

    /// <summary>The fitted members, in order.</summary>
    public IReadOnlyList<ITransformer> Members { get; }

    /// <summary>The members' weights (they sum to 1).</summary>
    public IReadOnlyList<double> Weights { get; }

    public bool IsRowToRowMapper => _chain.IsRowToRowMapper;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _chain.GetOutputSchema(inputSchema);

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _chain.GetRowToRowMapper(inputSchema);

    public IDataView Transform(IDataView input) => _chain.Transform(input);

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("A multiclass ensemble is saved by ModelArtifact.Save, member by member.");

    private static void Combine(float[] scores, float[] shares, string[] classes, Combined target)
    {
        var width = scores.Length / shares.Length;
        var combined = new float[width];
        for (var m = 0; m < shares.Length; m++)
        {
            for (var k = 0; k < width; k++)
            {
                combined[k] += shares[m] * scores[(m * width) + k];
            }
        }

        var best = 0;
        for (var k = 1; k < width; k++)
        {
            best = combined[k] > combined[best] ? k : best;
        }

        target.Score = combined;
        target.PredictedLabel = classes[best];
    }

    private sealed class MemberScores
    {
        public float[] Scores { get; set; } = [];
    }

    private sealed class Combined
    {
        public float[] Score { get; set; } = [];

        public string PredictedLabel { get; set; } = string.Empty;
    }
}

/// <summary>
/// A model's bytes: an ML.NET zip, or, for a <see cref="MulticlassEnsemble"/>, a zip of <c>ensemble.json</c> (the
/// weights) and each member's ML.NET zip under <c>members/</c>. Every model is loaded here, so scoring and evaluation
/// take both alike.
/// </summary>
public static class ModelArtifact
{
    private const string EnsembleEntry = "ensemble.json";

    /// <summary>The bytes of a fitted model whose input has <paramref name="schema"/>.</summary>
    public static byte[] Save(MLContext ml, ITransformer model, DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(ml);
        using var buffer = new MemoryStream();
        if (model is MulticlassEnsemble ensemble)
        {
            using var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true);
            using (var weights = zip.CreateEntry(EnsembleEntry).Open())
            {
                JsonSerializer.Serialize(weights, new EnsembleFile(ensemble.Weights));
            }

            for (var i = 0; i < ensemble.Members.Count; i++)
            {
                using var member = zip.CreateEntry($"members/{i}.zip").Open();
                ml.Model.Save(ensemble.Members[i], schema, member);
            }
        }
        else
        {
            ml.Model.Save(model, schema, buffer);
        }

        return buffer.ToArray();
    }

    /// <summary>Loads a model saved by <see cref="Save"/> for <paramref name="plan"/>.</summary>
    public static ITransformer Load(MLContext ml, Stream artifact, FeaturizationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(artifact);
        var bytes = new MemoryStream();
        artifact.CopyTo(bytes);
        bytes.Position = 0;
        using (var zip = new ZipArchive(bytes, ZipArchiveMode.Read, leaveOpen: true))
        {
            if (zip.GetEntry(EnsembleEntry) is { } entry)
            {
                EnsembleFile file;
                using (var json = entry.Open())
                {
                    file = JsonSerializer.Deserialize<EnsembleFile>(json) ?? throw new InvalidDataException("ensemble.json is empty.");
                }

                var members = Enumerable.Range(0, file.Weights.Count).Select(i =>
                {
                    using var member = new MemoryStream();
                    using (var stream = zip.GetEntry($"members/{i}.zip")!.Open())
                    {
                        stream.CopyTo(member);
                    }

                    member.Position = 0;
                    return ml.Model.Load(member, out _);
                }).ToList();
                var empty = ml.Data.LoadFromEnumerable(Array.Empty<FeatureRow>(), FeatureRowBuilder.Schema(plan));
                return new MulticlassEnsemble(ml, members, file.Weights, empty);
            }
        }

        bytes.Position = 0;
        return ml.Model.Load(bytes, out _);
    }

    private sealed record EnsembleFile(IReadOnlyList<double> Weights);
}
