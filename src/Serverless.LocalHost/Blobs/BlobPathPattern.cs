using System.Text;
using System.Text.RegularExpressions;
using Serverless.Storage;

namespace Serverless.LocalHost.Blobs;

/// <summary>
/// A blob trigger path such as <c>score-in/{name}</c> or <c>score-in/{folder}/{name}.csv</c>: a container, then a
/// pattern over the blob name. A parameter matches one path segment, except the last, which may span several.
/// </summary>
internal sealed partial class BlobPathPattern
{
    /// <summary>Binding data: the full path of the triggering blob, container included.</summary>
    public const string BlobTriggerKey = "BlobTrigger";

    /// <summary>Binding data: the URI of the triggering blob.</summary>
    public const string UriKey = "Uri";

    private readonly Regex _regex;

    private BlobPathPattern(string container, string blobPattern, Regex regex, IReadOnlyList<string> parameterNames, string listPrefix)
    {
        Container = container;
        BlobPattern = blobPattern;
        _regex = regex;
        ParameterNames = parameterNames;
        ListPrefix = listPrefix;
    }

    public string Container { get; }

    public string BlobPattern { get; }

    public IReadOnlyList<string> ParameterNames { get; }

    /// <summary>The literal start of the pattern, to list only the blobs that can match.</summary>
    public string ListPrefix { get; }

    public static BlobPathPattern Parse(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        var container = slash < 0 ? path : path[..slash];
        var blobPattern = slash < 0 ? string.Empty : path[(slash + 1)..];
        if (!BlobNameRules.IsValidContainerName(container))
        {
            throw new FormatException(
                $"blob path '{path}': '{container}' is not a valid container name (3-63 lowercase letters, digits and single dashes).");
        }

        var names = new List<string>();
        var regex = new StringBuilder("^");
        var prefix = new StringBuilder();
        var position = 0;
        var tokens = Token().Matches(blobPattern);
        foreach (Match token in tokens)
        {
            var literal = blobPattern[position..token.Index];
            regex.Append(Regex.Escape(literal));
            if (names.Count == 0)
            {
                prefix.Append(literal);
            }

            var name = token.Groups["name"].Value;
            if (names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new FormatException($"blob path '{path}': parameter '{{{name}}}' appears twice.");
            }

            names.Add(name);
            var isLast = token == tokens[^1];
            regex.Append($"(?<{name}>{(isLast ? ".+" : "[^/]+")})");
            position = token.Index + token.Length;
        }

        var tail = blobPattern[position..];
        if (tail.Contains('{', StringComparison.Ordinal) || tail.Contains('}', StringComparison.Ordinal))
        {
            throw new FormatException($"blob path '{path}': unbalanced or invalid '{{parameter}}'.");
        }

        regex.Append(Regex.Escape(tail));
        if (names.Count == 0)
        {
            prefix.Append(tail);
        }

        if (blobPattern.Length == 0)
        {
            regex.Append(".+");
        }

        regex.Append('$');
        return new BlobPathPattern(container, blobPattern, new Regex(regex.ToString(), RegexOptions.CultureInvariant), names, prefix.ToString());
    }

    /// <summary>The parameter values when <paramref name="blobName"/> matches, else null.</summary>
    public IReadOnlyDictionary<string, string>? Match(string blobName)
    {
        var match = _regex.Match(blobName);
        if (!match.Success)
        {
            return null;
        }

        return ParameterNames.ToDictionary(n => n, n => match.Groups[n].Value, StringComparer.OrdinalIgnoreCase);
    }

    public override string ToString() => BlobPattern.Length == 0 ? Container : $"{Container}/{BlobPattern}";

    [GeneratedRegex("\\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\\}")]
    private static partial Regex Token();
}
