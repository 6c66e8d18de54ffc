using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Serverless.LocalHost.Hosting;

/// <summary>Resolves <c>%Setting%</c> tokens in binding expressions against app settings, as the Functions host does.</summary>
internal static partial class AppSettings
{
    /// <summary>Replaces every <c>%Name%</c> in <paramref name="expression"/>; a missing setting throws, naming it and <paramref name="usage"/>.</summary>
    public static string Resolve(IConfiguration configuration, string expression, string usage) =>
        SettingToken().Replace(expression, match =>
        {
            var name = match.Groups["name"].Value;
            var value = configuration[name] ?? configuration[name.Replace("__", ":", StringComparison.Ordinal)];
            return string.IsNullOrWhiteSpace(value)
                ? throw new InvalidOperationException($"{usage}: the app setting '{name}' (from '%{name}%') is not set.")
                : value;
        });

    [GeneratedRegex("%(?<name>[A-Za-z0-9_:.\\-]+)%")]
    private static partial Regex SettingToken();
}
