using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Serverless.Functions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.AddServerlessPipeline();
builder.Build().Run();
