namespace Serverless.Storage;

/// <summary>A storage connection named by an app setting is missing or malformed.</summary>
public sealed class StorageConnectionException(string connectionName, string message)
    : InvalidOperationException(message)
{
    /// <summary>The app setting name (or prefix) of the connection.</summary>
    public string ConnectionName { get; } = connectionName;
}
