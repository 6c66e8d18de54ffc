using System.Reflection;
using System.Text.Json;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// Checks a JSON body against the record it will be read into, before it is read, so that each problem is one line
/// that names its field: a field the record does not have (a misspelled <c>positiveClass</c> must not pass silently),
/// or an enum value that is not one of the valid ones. Names compare as the worker's serializer does (camelCase,
/// any case); nested records are checked in turn; maps and lists are not.
/// </summary>
internal static class RequestShape
{
    /// <summary>One line per problem of <paramref name="body"/> as a <typeparamref name="T"/>; empty when it fits.</summary>
    public static IReadOnlyList<string> Problems<T>(JsonElement body)
    {
        var problems = new List<string>();
        Check(typeof(T), body, string.Empty, problems);
        return problems;
    }

    private static void Check(Type type, JsonElement value, string path, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var fields = Fields(type);
        foreach (var property in value.EnumerateObject())
        {
            var name = path + property.Name;
            if (!fields.TryGetValue(property.Name, out var field))
            {
                problems.Add($"{name}: not a field of {(path.Length == 0 ? "the request" : path.TrimEnd('.'))}; the fields are {string.Join(", ", fields.Values.Select(f => f.Name))}.");
                continue;
            }

            var target = Nullable.GetUnderlyingType(field.Type) ?? field.Type;
            if (target.IsEnum && property.Value.ValueKind == JsonValueKind.String
                && !Enum.GetNames(target).Contains(property.Value.GetString(), StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"{name}: '{property.Value.GetString()}' is not one of {string.Join(", ", Enum.GetNames(target))}.");
            }
            else if (IsRecord(target))
            {
                Check(target, property.Value, name + ".", problems);
            }
        }
    }

    /// <summary>The constructor parameters of a record, by their camelCase JSON name (any case).</summary>
    private static Dictionary<string, (string Name, Type Type)> Fields(Type type) =>
        type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .OrderByDescending(c => c.GetParameters().Length)
            .First()
            .GetParameters()
            .ToDictionary(p => p.Name!, p => (JsonNamingPolicy.CamelCase.ConvertName(p.Name!), p.ParameterType), StringComparer.OrdinalIgnoreCase);

    private static bool IsRecord(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("Serverless.", StringComparison.Ordinal) == true;
}
