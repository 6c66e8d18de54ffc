using Microsoft.AspNetCore.Routing;

namespace Serverless.Functions.LocalHost.Http;

/// <summary>HTTP endpoints of the runtime itself (extension webhooks), mapped beside the functions' routes.</summary>
internal interface IRuntimeEndpoints
{
    void Map(IEndpointRouteBuilder routes);
}
