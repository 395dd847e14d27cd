package imsync;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.DFSConfigKeys;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.MiniDFSNNTopology;
import org.apache.hadoop.security.UserGroupInformation;

/**
 * A throw-away HDFS for tests: Hadoop's MiniDFSCluster (real NameNode and DataNode code in one
 * JVM) with WebHDFS on loopback ports.
 *
 * <p>Usage: {@code HdfsMiniCluster <base-dir> [--ha] [--datanodes N] [--ls-limit N]}. When the
 * cluster is up it prints one JSON line to stdout:
 * {@code {"namenodes":["http://127.0.0.1:PORT",...],"rpc":["127.0.0.1:PORT",...],"active":0,
 * "user":"...","startupMs":N}} (WebHDFS addresses, then the RPC addresses Hadoop clients use).
 * It then reads commands from stdin, one a line, answering each with one line ({@code ok ...} or
 * {@code error ...}):
 *
 * <ul>
 *   <li>{@code failover I}: (HA) makes NameNode I active and the other standby;
 *   <li>{@code stop-namenode I}: shuts NameNode I down (its HTTP port then refuses connections);
 *   <li>{@code quit}: shuts the cluster down.
 * </ul>
 *
 * <p>It shuts down when stdin closes (the parent went away) and on SIGTERM.
 */
public final class HdfsMiniCluster {
  private HdfsMiniCluster() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: HdfsMiniCluster <base-dir> [--ha] [--datanodes N] [--ls-limit N]");
      System.exit(2);
    }
    File base = new File(args[0]);
    boolean ha = false;
    int datanodes = 1;
    int lsLimit = 100;
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--ha" -> ha = true;
        case "--datanodes" -> datanodes = Integer.parseInt(args[++i]);
        case "--ls-limit" -> lsLimit = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("unknown argument: " + args[i]);
          System.exit(2);
        }
      }
    }
    long start = System.nanoTime();
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getAbsolutePath());
    conf.setBoolean("dfs.webhdfs.enabled", true);
    // Small listing batches, so that tests cross LISTSTATUS_BATCH boundaries with few files.
    conf.setInt(DFSConfigKeys.DFS_LIST_LIMIT, lsLimit);
    conf.set(DFSConfigKeys.DFS_NAMENODE_HTTP_ADDRESS_KEY, "127.0.0.1:0");
    conf.set(DFSConfigKeys.DFS_DATANODE_HTTP_ADDRESS_KEY, "127.0.0.1:0");
    conf.set(DFSConfigKeys.DFS_DATANODE_ADDRESS_KEY, "127.0.0.1:0");
    conf.set(DFSConfigKeys.DFS_DATANODE_IPC_ADDRESS_KEY, "127.0.0.1:0");
    // Quick start and stop: no waiting for safe mode to end, short heartbeats.
    conf.setInt(DFSConfigKeys.DFS_NAMENODE_SAFEMODE_EXTENSION_KEY, 0);
    conf.setLong(DFSConfigKeys.DFS_HEARTBEAT_INTERVAL_KEY, 1);
    conf.setInt(DFSConfigKeys.DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL_KEY, 1000);
    conf.setBoolean("dfs.permissions.enabled", true);
    // The DataNode's own HDFS client closes each file WebHDFS writes; when the NameNode has not yet
    // heard of the last block it waits before asking again, 400 ms at first by default. A test
    // cluster answers within milliseconds: ask again sooner.
    conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 20);

    MiniDFSCluster.Builder builder = new MiniDFSCluster.Builder(conf)
        .numDataNodes(datanodes)
        .format(true)
        .manageNameDfsDirs(true)
        .checkExitOnShutdown(false);
    if (ha) builder.nnTopology(MiniDFSNNTopology.simpleHATopology());
    final MiniDFSCluster cluster = builder.build();
    if (ha) cluster.transitionToActive(0);
    cluster.waitActive();

    Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(cluster)));

    int n = cluster.getNumNameNodes();
    List<String> urls = new ArrayList<>();
    List<String> rpc = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      urls.add("\"http://127.0.0.1:" + cluster.getNameNode(i).getHttpAddress().getPort() + "\"");
      rpc.add("\"127.0.0.1:" + cluster.getNameNode(i).getNameNodeAddress().getPort() + "\"");
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    String user = UserGroupInformation.getCurrentUser().getShortUserName();
    System.out.println("{\"namenodes\":[" + String.join(",", urls) + "],\"rpc\":["
        + String.join(",", rpc) + "],\"active\":0,\"user\":\"" + user + "\",\"startupMs\":" + ms + "}");
    System.out.flush();

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] cmd = line.trim().split("\\s+");
      try {
        switch (cmd[0]) {
          case "failover" -> {
            int to = Integer.parseInt(cmd[1]);
            for (int i = 0; i < n; i++) if (i != to && cluster.getNameNode(i) != null && cluster.isNameNodeUp(i)) cluster.transitionToStandby(i);
            cluster.transitionToActive(to);
            reply("ok active " + to);
          }
          case "stop-namenode" -> {
            cluster.shutdownNameNode(Integer.parseInt(cmd[1]));
            reply("ok stopped " + cmd[1]);
          }
          case "quit" -> {
            reply("ok quit");
            System.exit(0);
          }
          case "" -> {}
          default -> reply("error unknown command " + cmd[0]);
        }
      } catch (Exception e) {
        reply("error " + e.toString().replace('\n', ' '));
      }
    }
    System.exit(0);
  }

  private static void reply(String s) {
    System.out.println(s);
    System.out.flush();
  }

  private static void shutdown(MiniDFSCluster cluster) {
    try {
      cluster.shutdown(true);
    } catch (Throwable t) {
      // Going away anyway.
    }
  }
}
