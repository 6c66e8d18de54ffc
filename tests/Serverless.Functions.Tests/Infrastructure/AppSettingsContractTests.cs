using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Serverless.Functions.Hosting;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Infrastructure;

/// <summary>
/// Code and infrastructure cannot drift apart: every app setting the app reads is set by the Bicep deployment and by
/// local.settings.sample.json, and every section setting the Bicep sets names a real option.
/// </summary>
public sealed partial class AppSettingsContractTests
{
    private const string FunctionAppBicep = "infra-bicep/modules/function-app.bicep";

    private static readonly string[] IdentityConnectionSuffixes = ["blobServiceUri", "queueServiceUri", "tableServiceUri", "credential", "clientId"];

    [Fact]
    public void AppSettingsReadByTheApp_SetByBicepAndSample()
    {
        var bicep = BicepAppSettings();
        var sample = SampleSettings();

        var missing = new List<string>();
        foreach (var setting in SettingsTheAppReads())
        {
            if (!bicep.Contains(setting))
            {
                missing.Add($"{setting} (not in {FunctionAppBicep})");
            }

            if (!sample.Contains(setting))
            {
                missing.Add($"{setting} (not in local.settings.sample.json)");
            }
        }

        foreach (var connection in ConnectionsTheAppUses())
        {
            missing.AddRange(IdentityConnectionSuffixes.Select(s => $"{connection}__{s}").Where(s => !bicep.Contains(s)).Select(s => $"{s} (identity-based connection, not in {FunctionAppBicep})"));
            if (!sample.Contains(connection))
            {
                missing.Add($"{connection} (connection, not in local.settings.sample.json)");
            }
        }

        Assert.True(missing.Count == 0, "Settings the app reads but the deployment or sample does not set:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void SectionSettingsInBicepAndSample_NameRealOptions()
    {
        var options = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
        {
            [PipelineOptions.SectionName] = typeof(PipelineOptions),
            [TelemetryOptions.SectionName] = typeof(TelemetryOptions),
        };

        var unknown = BicepAppSettings().Concat(SampleSettings())
            .Select(key => key.Split("__"))
            .Where(parts => parts.Length == 2 && options.ContainsKey(parts[0]))
            .Where(parts => options[parts[0]].GetProperty(parts[1], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is null)
            .Select(parts => string.Join("__", parts))
            .ToArray();

        Assert.Empty(unknown);
    }

    [Fact]
    public void SettingsTheAppReads_FoundInTheCode()
    {
        // Guards the scan itself: if these disappear, the contract above checks nothing.
        Assert.Contains("RetrainSchedule", SettingsTheAppReads());
        Assert.Contains("TASKHUB_NAME", SettingsTheAppReads());
        Assert.Contains("AzureWebJobsStorage", ConnectionsTheAppUses());
    }

    /// <summary>%Setting% tokens in the app's trigger attributes and in host.json.</summary>
    private static HashSet<string> SettingsTheAppReads()
    {
        var fromAttributes = FunctionParameters()
            .SelectMany(p => p.GetCustomAttributesData())
            .SelectMany(a => a.ConstructorArguments.Select(c => c.Value).Concat(a.NamedArguments.Select(n => n.TypedValue.Value)))
            .OfType<string>();
        var fromHostJson = new[] { RepositoryPaths.Read("host.json") };
        return [.. fromAttributes.Concat(fromHostJson).SelectMany(text => SettingToken().Matches(text)).Select(m => m.Groups["name"].Value)];
    }

    /// <summary>Storage connections of the app's triggers; AzureWebJobsStorage is always one (the host's own).</summary>
    private static HashSet<string> ConnectionsTheAppUses()
    {
        var connections = FunctionParameters()
            .Select(p => p.GetCustomAttribute<BlobTriggerAttribute>()?.Connection)
            .OfType<string>();
        return [.. connections.Append("AzureWebJobsStorage")];
    }

    private static IEnumerable<ParameterInfo> FunctionParameters() =>
        typeof(ServerlessPipelineExtensions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .SelectMany(m => m.GetParameters());

    /// <summary>The keys of the app settings objects in the function app module (appSettings and schedulerSettings).</summary>
    private static HashSet<string> BicepAppSettings() =>
        [.. BicepSettingKey().Matches(RepositoryPaths.Read(FunctionAppBicep)).Select(m => m.Groups["key"].Value)];

    private static HashSet<string> SampleSettings()
    {
        using var sample = JsonDocument.Parse(RepositoryPaths.Read("local.settings.sample.json"));
        return [.. sample.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name)];
    }

    [GeneratedRegex("%(?<name>[A-Za-z0-9_]+)%")]
    private static partial Regex SettingToken();

    // A key at the start of a line in a Bicep object literal: "  Name: value" or "  'Name': value".
    [GeneratedRegex(@"^\s+'?(?<key>[A-Za-z_][A-Za-z0-9_]*)'?:\s", RegexOptions.Multiline)]
    private static partial Regex BicepSettingKey();
}
