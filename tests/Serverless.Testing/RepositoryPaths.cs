namespace Serverless.Testing;

/// <summary>Files of the repository, for tests that check what is committed (infra, samples, host.json).</summary>
public static class RepositoryPaths
{
    /// <summary>The directory holding Serverless.sln and package.json, found upwards from the test binaries.</summary>
    public static string Root()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "package.json")) && File.Exists(Path.Combine(directory.FullName, "Serverless.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root (package.json next to Serverless.sln) above {AppContext.BaseDirectory}.");
    }

    /// <summary>The text of a file, by its path from the root.</summary>
    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root(), relativePath));
}
