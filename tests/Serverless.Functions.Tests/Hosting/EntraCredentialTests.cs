using Azure.Identity;
using Serverless.Functions.Hosting;

namespace Serverless.Functions.Tests.Hosting;

public sealed class EntraCredentialTests
{
    [Fact]
    public void EntraCredential_NotSet_UsesTheConnectionString()
    {
        Assert.Null(ServerlessPipelineExtensions.EntraCredential(null));
    }

    [Theory]
    [InlineData("ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD")]
    [InlineData("Authorization=AAD")]
    [InlineData(" authorization = aad ")]
    public void EntraCredential_AadForms_ManagedIdentity(string value)
    {
        Assert.IsType<ManagedIdentityCredential>(ServerlessPipelineExtensions.EntraCredential(value));
    }

    [Fact]
    public void EntraCredential_OtherAuthorization_RefusedNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ServerlessPipelineExtensions.EntraCredential("ClientId=x;Authorization=Key"));

        Assert.Contains("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", error.Message, StringComparison.Ordinal);
    }
}
