using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}

/// <summary>
/// Tests that call the same HTTP test functions run one at a time: spans are recorded process-wide, so a span test
/// would otherwise see another test's invocations.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HttpFunctionsCollection
{
    public const string Name = "HTTP test functions";
}
