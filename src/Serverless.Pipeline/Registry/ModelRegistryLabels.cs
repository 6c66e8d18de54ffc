using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace Serverless.Pipeline.Registry;

/// <summary>What labels models and versions: aliases and tags, changed without overwriting another's change.</summary>
public sealed partial class ModelRegistry
{
    /// <summary>The most tags a model or a version carries, and the longest key and value (MLflow's limits).</summary>
    public const int MaxTags = 50;

    /// <inheritdoc cref="MaxTags"/>
    public const int MaxTagKeyLength = 250;

    /// <inheritdoc cref="MaxTags"/>
    public const int MaxTagValueLength = 5000;

    /// <summary>Raised with the model's name after its aliases (or tags) were changed through this registry.</summary>
    public event Action<string>? AliasesChanged;

    /// <summary>Points <paramref name="alias"/> at <paramref name="version"/> (READY only), wherever it pointed before.</summary>
    public Task<RegisteredModel> SetAliasAsync(string name, string alias, int version, CancellationToken cancellationToken) =>
        PointAliasAsync(name, alias, version, expected: null, ifMatch: null, cancellationToken);

    /// <summary>
    /// Points <paramref name="alias"/> at <paramref name="version"/>; with <paramref name="ifMatch"/>, only if the model
    /// is still as the caller read it (else <see cref="ModelRegistryPreconditionException"/>).
    /// </summary>
    public Task<RegisteredModel> SetAliasAsync(string name, string alias, int version, string? ifMatch, CancellationToken cancellationToken) =>
        PointAliasAsync(name, alias, version, expected: null, ifMatch, cancellationToken);

    /// <summary>
    /// Moves <paramref name="alias"/> from <paramref name="fromVersion"/> (null: from nowhere) to <paramref name="toVersion"/>,
    /// only if it still points there: of two callers who saw the same champion, one wins and the other gets
    /// <see cref="ModelRegistryConflictException"/>.
    /// </summary>
    public Task<RegisteredModel> MoveAliasAsync(string name, string alias, int? fromVersion, int toVersion, CancellationToken cancellationToken) =>
        PointAliasAsync(name, alias, toVersion, expected: new Expected(fromVersion), ifMatch: null, cancellationToken);

    /// <summary>Removes an alias; null when the model or the alias does not exist.</summary>
    public Task<RegisteredModel?> DeleteAliasAsync(string name, string alias, string? ifMatch, CancellationToken cancellationToken) =>
        ChangeModelAsync(name, ifMatch, row =>
        {
            var aliases = ReadAliases(row);
            if (!aliases.Remove(alias))
            {
                return false;
            }

            row["Aliases"] = JsonSerializer.Serialize(aliases, Json);
            return true;
        }, cancellationToken);

    /// <summary>Sets (or, with a null <paramref name="value"/>, removes) a tag of a model; null when there is no such model.</summary>
    public Task<RegisteredModel?> SetModelTagAsync(string name, string key, string? value, CancellationToken cancellationToken)
    {
        ValidateTag(key, value);
        return ChangeModelAsync(name, ifMatch: null, row =>
        {
            var tags = JsonSerializer.Deserialize<Dictionary<string, string>>(row.GetString("Tags") ?? "{}", Json)!;
            row["Tags"] = JsonSerializer.Serialize(WithTag(tags, key, value), Json);
            return true;
        }, cancellationToken);
    }

    /// <summary>Sets (or, with a null <paramref name="value"/>, removes) a tag of a version; null when there is no such version.</summary>
    public async Task<ModelVersion?> SetVersionTagAsync(string name, int version, string key, string? value, CancellationToken cancellationToken)
    {
        ValidateTag(key, value);
        while (true)
        {
            var row = await _versions.GetEntityIfExistsAsync<TableEntity>(name, VersionKey(version), cancellationToken: cancellationToken);
            if (!row.HasValue)
            {
                return null;
            }

            var current = FromEntity(row.Value!);
            var updated = current with { Tags = WithTag(new Dictionary<string, string>(current.Tags ?? new Dictionary<string, string>()), key, value) };
            try
            {
                await _versions.UpdateEntityAsync(ToEntity(updated), row.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                return updated;
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                // Changed meanwhile (another tag, or the registration finishing): apply this tag to what is there now.
            }
        }
    }

    /// <summary>Whether an alias is valid: a valid name, other than MLflow's reserved <c>latest</c> and <c>v{number}</c>.</summary>
    public static bool IsValidAlias(string? alias) =>
        IsValidName(alias) && !string.Equals(alias, "latest", StringComparison.OrdinalIgnoreCase)
        && !(alias!.Length > 1 && alias[0] is 'v' or 'V' && alias[1..].All(char.IsAsciiDigit));

    private sealed record Expected(int? Version);

    private async Task<RegisteredModel> PointAliasAsync(
        string name,
        string alias,
        int version,
        Expected? expected,
        string? ifMatch,
        CancellationToken cancellationToken)
    {
        if (!IsValidAlias(alias))
        {
            throw new ArgumentException($"Alias '{alias}' must be 1-63 letters, digits, '-' or '_', starting with a letter or digit; 'latest' and 'v' with a number are reserved, as in MLflow.", nameof(alias));
        }

        var target = await GetVersionAsync(name, version, cancellationToken)
            ?? throw new ModelRegistryConflictException($"Model '{name}' has no version {version}.");
        if (target.Status != ModelVersionStatus.Ready)
        {
            throw new ModelRegistryConflictException($"Model '{name}' version {version} is {target.Status}; only READY versions take an alias.");
        }

        return await ChangeModelAsync(name, ifMatch, row =>
        {
            var aliases = ReadAliases(row);
            var current = aliases.TryGetValue(alias, out var v) ? v : (int?)null;
            if (expected is not null && current != expected.Version)
            {
                throw new ModelRegistryConflictException($"Model '{name}': alias '{alias}' points at {(current is null ? "nothing" : $"version {current}")}, not {(expected.Version is null ? "nothing" : $"version {expected.Version}")}; it moved since you looked.");
            }

            aliases[alias] = version;
            row["Aliases"] = JsonSerializer.Serialize(aliases, Json);
            return true;
        }, cancellationToken) ?? throw new ModelRegistryConflictException($"There is no model '{name}'.");
    }

    /// <summary>
    /// Reads the model row, applies <paramref name="change"/> (false: nothing to change, null is returned) and writes it
    /// back only if nobody wrote it meanwhile: without <paramref name="ifMatch"/> it reads again and retries; with it,
    /// a row that is not at that ETag is <see cref="ModelRegistryPreconditionException"/>. Null when there is no model.
    /// </summary>
    private async Task<RegisteredModel?> ChangeModelAsync(string name, string? ifMatch, Func<TableEntity, bool> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            var found = await _models.GetEntityIfExistsAsync<TableEntity>(ModelPartition, name, cancellationToken: cancellationToken);
            if (!found.HasValue)
            {
                return null;
            }

            var row = found.Value!;
            if (ifMatch is not null && ifMatch != "*" && row.ETag.ToString() != ifMatch.Trim())
            {
                throw new ModelRegistryPreconditionException($"Model '{name}' changed since you read it (its ETag is {row.ETag}, not {ifMatch}); read it again.");
            }

            if (!change(row))
            {
                return null;
            }

            row["UpdatedAt"] = time.GetUtcNow();
            try
            {
                await _models.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                AliasesChanged?.Invoke(name);
                return await GetModelAsync(name, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                if (ifMatch is not null)
                {
                    throw new ModelRegistryPreconditionException($"Model '{name}' changed while this change was written; read it again.");
                }
            }
        }
    }

    private static Dictionary<string, string> WithTag(Dictionary<string, string> tags, string key, string? value)
    {
        if (value is null)
        {
            tags.Remove(key);
        }
        else
        {
            tags[key] = value;
            if (tags.Count > MaxTags)
            {
                throw new ArgumentException($"At most {MaxTags} tags; remove one first.", nameof(key));
            }
        }

        return tags;
    }

    private static void ValidateTag(string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length > MaxTagKeyLength || key.Any(char.IsControl))
        {
            throw new ArgumentException($"A tag key is 1-{MaxTagKeyLength} characters without control characters.", nameof(key));
        }

        if (value is { Length: > MaxTagValueLength })
        {
            throw new ArgumentException($"Tag '{key}': a value is at most {MaxTagValueLength} characters, not {value.Length}.", nameof(value));
        }
    }
}
