using Serverless.Testing;

namespace Serverless.Functions.Tests.EndToEnd;

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
