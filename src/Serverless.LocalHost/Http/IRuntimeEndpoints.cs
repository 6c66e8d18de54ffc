using Microsoft.AspNetCore.Routing;

namespace Serverless.LocalHost.Http;

/// <summary>HTTP endpoints of the runtime itself (extension webhooks), mapped beside the functions' routes.</summary>
internal interface IRuntimeEndpoints
{
    void Map(IEndpointRouteBuilder routes);
}
