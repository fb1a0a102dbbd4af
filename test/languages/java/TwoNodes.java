// The two-node example (examples/two-nodes/stack.ts) written in Java.
//
// Usage: java -cp CLASSPATH TwoNodes.java OUTDIR. Synthesizes the stack `two-nodes` into OUTDIR,
// with the same construct ids as the TypeScript example, so the output can be compared byte for byte.
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import com.hashicorp.cdktf.TerraformStack;
import com.hashicorp.cdktf.providers.consul.provider.ConsulProvider;
import io.meshx.node.BeamMesh;
import io.meshx.node.BeamNode;
import io.meshx.node.BeamNodeProps;
import io.meshx.node.ProxyKind;
import java.util.List;
import software.constructs.Construct;

public class TwoNodes {
    static class TwoNodesStack extends TerraformStack {
        TwoNodesStack(Construct scope, String id) {
            super(scope, id);
            // Address and token from CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN.
            ConsulProvider.Builder.create(this, "consul").build();
            BeamMesh mesh = BeamMesh.Builder.create(this, "Mesh").name("shop").proxy(ProxyKind.BUILTIN).build();
            BeamNode orders = mesh.addNode("Orders", BeamNodeProps.builder()
                .nodeName("orders@orders-1.shop.test").tags(List.of("orders")).build());
            BeamNode billing = mesh.addNode("Billing", BeamNodeProps.builder()
                .nodeName("billing@billing-1.shop.test").tags(List.of("billing")).build());
            mesh.connect(orders, billing);
        }
    }

    public static void main(String[] args) {
        App app = new App(AppConfig.builder().outdir(args[0]).build());
        new TwoNodesStack(app, "two-nodes");
        app.synth();
    }
}
