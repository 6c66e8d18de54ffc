using System.Text.RegularExpressions;

namespace Serverless.Storage;

/// <summary>Checks of container and blob names that come from outside (an upload, an event, a request).</summary>
public static partial class BlobNameRules
{
    /// <summary>3-63 lowercase letters, digits and single dashes, starting and ending with a letter or digit.</summary>
    public static bool IsValidContainerName(string? name) =>
        name is not null && ContainerName().IsMatch(name) && !name.Contains("--", StringComparison.Ordinal);

    /// <summary>
    /// Whether a blob name is stored as given and cannot climb out of its prefix when used to build another path:
    /// 1-1024 characters, no leading '/', no '\', no control characters, no '.' or '..' segment.
    /// </summary>
    public static bool IsSafeBlobName(string? name) =>
        name is { Length: > 0 and <= 1024 }
        && !name.StartsWith('/')
        && !name.Contains('\\', StringComparison.Ordinal)
        && !name.Any(char.IsControl)
        && name.Split('/').All(segment => segment is not ("." or ".."));

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerName();
}
