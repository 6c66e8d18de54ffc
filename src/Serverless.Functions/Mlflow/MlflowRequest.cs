using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker.Http;

namespace Serverless.Functions.Mlflow;

/// <summary>
/// What an MLflow request asks, as MLflow clients send it: arguments in the query (GET) or a JSON body (POST), filters
/// of <c>key = 'value'</c> and <c>name LIKE 'prefix%'</c> clauses joined by AND.
/// </summary>
internal static partial class MlflowRequest
{
    /// <summary>A request's arguments, from the query (GET) or the JSON body (POST), as MLflow clients send them.</summary>
    public sealed record Arguments(IReadOnlyDictionary<string, JsonElement> Body, HttpRequestData Request)
    {
        public string? Get(string name) =>
            Body.TryGetValue(name, out var value) ? (value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()) : Request.Query[name];

        public string? Filter => Get("filter");

        public string? PageToken => Get("page_token") is { Length: > 0 } token ? token : null;

        public int MaxResults => int.TryParse(Get("max_results"), NumberStyles.None, CultureInfo.InvariantCulture, out var max) ? Math.Clamp(max, 1, 1000) : 100;

        public IReadOnlyList<string>? OrderBy => Many("order_by");

        public IReadOnlyList<string>? ExperimentIds => Many("experiment_ids");

        private List<string>? Many(string name) =>
            Body.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Array
                ? [.. value.EnumerateArray().Select(v => v.GetString() ?? string.Empty)]
                : Request.Query.GetValues(name)?.ToList();
    }

    /// <summary>Reads a request's arguments.</summary>
    public static async Task<Arguments> ReadAsync(HttpRequestData request, CancellationToken cancellationToken)
    {
        var body = new Dictionary<string, JsonElement>();
        if (request.Method.Equals("POST", StringComparison.OrdinalIgnoreCase) || request.Method.Equals("DELETE", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    body[property.Name] = property.Value.Clone();
                }
            }
            catch (JsonException)
            {
                // No body, or not JSON: the query holds the arguments.
            }
        }

        return new Arguments(body, request);
    }

    /// <summary>What a model-name filter asks: an exact name, a prefix (<c>LIKE 'x%'</c>), a tag.</summary>
    public sealed record NameFilter(string? Name, string? Prefix, KeyValuePair<string, string>? Tag);

    /// <summary>Reads a filter on model names and tags; false when it has another clause.</summary>
    public static bool TryNameFilter(string? text, out NameFilter filter)
    {
        filter = new NameFilter(null, null, null);
        if (Clauses(text) is not { } clauses)
        {
            return false;
        }

        foreach (var (key, value) in clauses)
        {
            if (key == "name")
            {
                filter = filter with { Name = value };
            }
            else if (key == "name like")
            {
                if (!value.EndsWith('%') || value[..^1].IndexOfAny(['%', '_']) >= 0)
                {
                    return false;
                }

                filter = filter with { Prefix = value[..^1] };
            }
            else if (key.StartsWith("tags.", StringComparison.Ordinal))
            {
                filter = filter with { Tag = new(key[5..], value) };
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Clauses <c>key = 'value'</c> or <c>key LIKE 'value'</c> joined by AND; null when one is not of that form.</summary>
    public static Dictionary<string, string>? Clauses(string? text)
    {
        var clauses = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text))
        {
            return clauses;
        }

        foreach (var part in AndSeparator().Split(text.Trim()))
        {
            var match = Clause().Match(part.Trim());
            if (!match.Success)
            {
                return null;
            }

            var like = !match.Groups["op"].Value.Equals("=", StringComparison.Ordinal);
            clauses[match.Groups["key"].Value.Trim('`') + (like ? " like" : string.Empty)] = match.Groups["value"].Value;
        }

        return clauses;
    }

    [GeneratedRegex(@"\s+and\s+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AndSeparator();

    [GeneratedRegex(@"^(?<key>[A-Za-z_.`]+[A-Za-z0-9_.`-]*)\s*(?<op>=|(?i:like)|(?i:ilike))\s*['""](?<value>[^'""]*)['""]$", RegexOptions.CultureInvariant)]
    private static partial Regex Clause();
}
