using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Extensions.ObjectPool;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// One online prediction: the predicted class or value and, for classifiers, each class's probability as
/// <c>probability_{class}</c> (the <see cref="PredictionColumns"/> of files); or why the row could not be scored.
/// </summary>
public sealed record OnlinePrediction(string? Prediction, string? Error)
{
    /// <summary><c>probability_{class}</c> → the class's probability, written as properties of the prediction itself.</summary>
    [JsonExtensionData]
    public Dictionary<string, object>? Probabilities { get; init; }
}

/// <summary>
/// A model version loaded for serving: a <see cref="BatchScorer"/> for files, and a pool of prediction engines for
/// single rows (a <c>PredictionEngine</c> is not thread-safe; the pool gives each caller its own).
/// </summary>
public sealed class LoadedModel
{
    private readonly Func<FeatureRow, OnlinePrediction> _predict;

    internal LoadedModel(ModelVersion version, byte[] artifact)
    {
        Version = version;
        Batch = new BatchScorer(new MemoryStream(artifact), version.Plan);
        var pool = new DefaultObjectPool<Func<FeatureRow, Prediction>>(new PredictorPolicy(Batch), Environment.ProcessorCount * 2);
        var columns = PredictionColumns.Probabilities(Batch.Classes);
        _predict = row =>
        {
            var predictor = pool.Get();
            try
            {
                var prediction = predictor(row);
                if (version.Plan.Task == MlTask.Regression)
                {
                    return new OnlinePrediction(prediction.Value.ToString("R", CultureInfo.InvariantCulture), null);
                }

                var probabilities = prediction.Probabilities ?? [1 - prediction.Value, prediction.Value];
                return new OnlinePrediction(prediction.Label, null)
                {
                    Probabilities = columns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (object)Math.Round((double)probabilities[p.i], 6)),
                };
            }
            finally
            {
                pool.Return(predictor);
            }
        };
    }

    /// <summary>The version served.</summary>
    public ModelVersion Version { get; }

    /// <summary>The file scorer of this version.</summary>
    public BatchScorer Batch { get; }

    /// <summary>
    /// Predicts each row (column name → value as text; a missing column or empty value is a missing value). Rows that
    /// cannot be read get an error naming the column; the others are unaffected. Safe to call from many threads.
    /// </summary>
    public IReadOnlyList<OnlinePrediction> Predict(IReadOnlyList<IReadOnlyDictionary<string, string?>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var inputs = Version.Signature.Inputs.Select(i => i.Name).ToArray();
        var required = Version.Signature.Inputs.Where(i => i.Required).Select(i => i.Name).ToArray();
        var builder = new FeatureRowBuilder(Version.Plan, inputs);
        var results = new OnlinePrediction[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = new Dictionary<string, string?>(rows[i], StringComparer.OrdinalIgnoreCase);
            var fields = inputs.Select(name => row.GetValueOrDefault(name) ?? string.Empty).ToArray();
            if (required.FirstOrDefault(name => string.IsNullOrWhiteSpace(row.GetValueOrDefault(name))) is { } absent)
            {
                results[i] = new OnlinePrediction(null, $"row {i + 1}: '{absent}' is missing; the model needs it (it had no missing value in training)");
                continue;
            }

            var features = builder.TryBuild(fields, i + 1, out var error);
            results[i] = features is null
                ? new OnlinePrediction(null, $"row {i + 1}: {ColumnNamed(error!, inputs)}")
                : _predict(features);
        }

        return results;
    }

    /// <summary>Errors name columns by position ("column 2"); online callers sent names, so name it.</summary>
    private static string ColumnNamed(string error, string[] inputs)
    {
        const string prefix = "column ";
        if (error.StartsWith(prefix, StringComparison.Ordinal))
        {
            var colon = error.IndexOf(':', StringComparison.Ordinal);
            if (colon > prefix.Length && int.TryParse(error.AsSpan(prefix.Length, colon - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var position) && position >= 1 && position <= inputs.Length)
            {
                return $"'{inputs[position - 1]}'{error[colon..]}";
            }
        }

        return error;
    }

    /// <summary>Each pooled predictor has its own prediction engine over the one loaded model.</summary>
    private sealed class PredictorPolicy(BatchScorer batch) : PooledObjectPolicy<Func<FeatureRow, Prediction>>
    {
        public override Func<FeatureRow, Prediction> Create() => batch.CreatePredictor();

        public override bool Return(Func<FeatureRow, Prediction> obj) => true;
    }
}

/// <summary>
/// Model versions loaded on first use and kept for serving, at most <c>capacity</c> of them: the least recently used
/// is evicted when another is loaded. Concurrent first requests for one version load it once. Artifacts are checked
/// against their registered SHA-256 before they serve. What an alias points at is kept for <see cref="AliasLifetime"/>,
/// so a prediction does not read the registry's table each time; an alias moved through this process's registry is
/// seen at once, one moved by another instance within that time.
/// </summary>
public sealed class ModelCache
{
    /// <summary>How long what an alias points at is trusted before the registry is read again.</summary>
    public static readonly TimeSpan AliasLifetime = TimeSpan.FromSeconds(5);

    private readonly ModelRegistry _registry;
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Name, string Alias), (int? Version, long Until)> _aliases = new();
    private readonly Lock _gate = new();
    private readonly LinkedList<string> _recency = new();
    private readonly Dictionary<string, (LinkedListNode<string> Node, Lazy<Task<LoadedModel>> Load)> _entries = new(StringComparer.Ordinal);

    /// <summary>A cache over <paramref name="registry"/>, which tells it when an alias moves.</summary>
    public ModelCache(ModelRegistry registry, int capacity = 8, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _capacity = capacity;
        _time = time ?? TimeProvider.System;
        registry.AliasesChanged += name =>
        {
            foreach (var key in _aliases.Keys.Where(k => k.Name == name))
            {
                _aliases.TryRemove(key, out _);
            }
        };
    }

    /// <summary>The loaded (or loading) versions as name/version, most recently used first.</summary>
    public IReadOnlyList<string> Loaded
    {
        get
        {
            lock (_gate)
            {
                return [.. _recency];
            }
        }
    }

    /// <summary>A version, loaded if it is not yet; throws <see cref="ModelRegistryConflictException"/> for a version that does not exist or cannot serve.</summary>
    public Task<LoadedModel> GetAsync(string name, int version, CancellationToken cancellationToken)
    {
        var key = $"{name}/{version}";
        Lazy<Task<LoadedModel>> load;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry))
            {
                _recency.Remove(entry.Node);
                _recency.AddFirst(entry.Node);
                load = entry.Load;
            }
            else
            {
                // Loaded once for every caller, so not under one caller's cancellation; each caller's wait is.
                Lazy<Task<LoadedModel>>? created = null;
                created = new Lazy<Task<LoadedModel>>(() => LoadAsync(name, version, key, created!));
                load = created;
                _entries[key] = (_recency.AddFirst(key), load);
                while (_entries.Count > _capacity && _recency.Last is { } oldest)
                {
                    _entries.Remove(oldest.Value);
                    _recency.RemoveLast();
                }
            }
        }

        return load.Value.WaitAsync(cancellationToken);
    }

    /// <summary>The version an alias points at, loaded; null when the model or alias does not exist.</summary>
    public async Task<LoadedModel?> GetByAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (!_aliases.TryGetValue((name, alias), out var known) || now > known.Until)
        {
            var model = await _registry.GetModelAsync(name, cancellationToken);
            known = (model is not null && model.Aliases.TryGetValue(alias, out var found) ? found : null, now + (long)(AliasLifetime.TotalSeconds * _time.TimestampFrequency));
            _aliases[(name, alias)] = known;
        }

        return known.Version is { } version ? await GetAsync(name, version, cancellationToken) : null;
    }

    private async Task<LoadedModel> LoadAsync(string name, int version, string key, Lazy<Task<LoadedModel>> self)
    {
        try
        {
            var found = await _registry.GetVersionAsync(name, version, CancellationToken.None)
                ?? throw new ModelRegistryConflictException($"Model '{name}' has no version {version}.");
            return new LoadedModel(found, await _registry.DownloadArtifactAsync(found, CancellationToken.None));
        }
        catch
        {
            // A failed load is not cached: the next request tries again (unless this entry was already replaced).
            lock (_gate)
            {
                if (_entries.TryGetValue(key, out var entry) && ReferenceEquals(entry.Load, self))
                {
                    _entries.Remove(key);
                    _recency.Remove(entry.Node);
                }
            }

            throw;
        }
    }
}
