using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Serverless.Storage;

namespace Serverless.LocalHost.Hosting;

/// <summary>
/// Adds the configuration sources of a Functions host, beneath what is already there (environment variables and the
/// command line keep precedence): built-in defaults, <c>host.json</c> under <c>AzureFunctionsJobHost</c>, and the
/// <c>Values</c> of <c>local.settings.json</c> with <c>__</c> read as a section separator, as Core Tools does.
/// </summary>
internal static class LocalConfiguration
{
    public const string HostJsonSection = "AzureFunctionsJobHost";
    public const string LocalSettingsFileName = "local.settings.json";

    public static void AddFunctionsSources(IConfigurationBuilder configuration, string appDirectory)
    {
        var sources = new List<IConfigurationSource>
        {
            Memory(new Dictionary<string, string?>
            {
                [StorageClientFactory.DefaultConnectionName] = "UseDevelopmentStorage=true",
                ["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated",
            }),
        };

        var hostJson = Path.Combine(appDirectory, "host.json");
        if (File.Exists(hostJson))
        {
            sources.Add(Memory(ReadHostJson(hostJson)));
        }

        var localSettings = FindLocalSettings(appDirectory);
        if (localSettings is not null)
        {
            sources.Add(Memory(ReadLocalSettings(localSettings)));
        }

        for (var i = 0; i < sources.Count; i++)
        {
            configuration.Sources.Insert(i, sources[i]);
        }
    }

    /// <summary>host.json, flattened under <c>AzureFunctionsJobHost:</c>, as the Functions host exposes it.</summary>
    public static Dictionary<string, string?> ReadHostJson(string path)
    {
        var parsed = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).Build();
        return parsed.AsEnumerable()
            .Where(pair => pair.Value is not null)
            .ToDictionary(pair => $"{HostJsonSection}:{pair.Key}", pair => pair.Value, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The <c>Values</c>, <c>ConnectionStrings</c> and <c>Host.LocalHttpPort</c> of a local.settings.json file.</summary>
    public static Dictionary<string, string?> ReadLocalSettings(string path)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        using var document = ParseLocalSettings(path);
        var root = document.RootElement;
        if (root.TryGetProperty("IsEncrypted", out var encrypted) && encrypted.ValueKind == JsonValueKind.True)
        {
            throw new InvalidOperationException(
                $"{path}: encrypted settings (IsEncrypted: true) are not supported by the local runtime; decrypt them with 'func settings decrypt'.");
        }

        if (root.TryGetProperty("Values", out var values) && values.ValueKind == JsonValueKind.Object)
        {
            foreach (var value in values.EnumerateObject())
            {
                result[value.Name.Replace("__", ":", StringComparison.Ordinal)] = ToSettingString(value.Value);
            }
        }

        if (root.TryGetProperty("ConnectionStrings", out var connectionStrings) && connectionStrings.ValueKind == JsonValueKind.Object)
        {
            foreach (var value in connectionStrings.EnumerateObject())
            {
                result[$"ConnectionStrings:{value.Name}"] = ToSettingString(value.Value);
            }
        }

        if (root.TryGetProperty("Host", out var host) && host.ValueKind == JsonValueKind.Object
            && host.TryGetProperty("LocalHttpPort", out var port))
        {
            result[$"{LocalHostOptions.SectionName}:Http:Port"] = ToSettingString(port);
        }

        return result;
    }

    private static JsonDocument ParseLocalSettings(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"{path}: not valid JSON (line {ex.LineNumber + 1}): {ex.Message}", ex);
        }
    }

    private static string? ToSettingString(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Null => null,
        _ => element.GetRawText(),
    };

    private static string? FindLocalSettings(string appDirectory)
    {
        foreach (var directory in new[] { Directory.GetCurrentDirectory(), appDirectory })
        {
            var candidate = Path.Combine(directory, LocalSettingsFileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static MemoryConfigurationSource Memory(IEnumerable<KeyValuePair<string, string?>> data) => new() { InitialData = data };
}
