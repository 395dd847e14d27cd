import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hive.metastore.HiveMetaStore;
import org.apache.hadoop.hive.metastore.IHMSHandler;
import org.apache.hadoop.hive.metastore.MetastoreTaskThread;
import org.apache.hadoop.hive.metastore.RetryingHMSHandler;
import org.apache.hadoop.hive.metastore.TSetIpAddressProcessor;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf.ConfVars;
import org.apache.hadoop.hive.metastore.utils.JavaUtils;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TTransportFactory;

/**
 * Serves Hive Metastore 3.1's Thrift API on a loopback socket, for the test metastores only.
 *
 * Why: 3.1 has no bind-address setting (metastore.thrift.bind.host came with 4.0); its
 * HiveMetaStore.startMetaStore always opens the server socket on the wildcard address. This
 * launcher builds the same handler (HMSHandler behind RetryingHMSHandler, as the server does)
 * and the same plain, unauthenticated transport (buffered socket, binary protocol,
 * TSetIpAddressProcessor), but on 127.0.0.1, and runs the housekeeping tasks the configuration
 * names (the lock housekeeper among them). No SASL, SSL or framed transport: the tests use none.
 *
 * Usage: java -cp CONF:LAUNCHER:LIB/* LoopbackMetastore PORT
 */
public final class LoopbackMetastore {
  private LoopbackMetastore() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Configuration conf = MetastoreConf.newMetastoreConf();
    IHMSHandler handler = RetryingHMSHandler.getProxy(
        conf, new HiveMetaStore.HMSHandler("new db based metaserver", conf, false), false);

    ScheduledExecutorService tasks = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "Metastore housekeeping");
      t.setDaemon(true);
      return t;
    });
    // As 3.1's remote metastore does: the always-on tasks and the remote-only ones.
    schedule(tasks, conf, ConfVars.TASK_THREADS_ALWAYS);
    schedule(tasks, conf, ConfVars.TASK_THREADS_REMOTE_ONLY);

    TServerSocket socket = new TServerSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    TThreadPoolServer server = new TThreadPoolServer(new TThreadPoolServer.Args(socket)
        .processor(new TSetIpAddressProcessor<>(handler))
        .transportFactory(new TTransportFactory())
        .protocolFactory(new TBinaryProtocol.Factory())
        .minWorkerThreads(MetastoreConf.getIntVar(conf, ConfVars.SERVER_MIN_THREADS))
        .maxWorkerThreads(MetastoreConf.getIntVar(conf, ConfVars.SERVER_MAX_THREADS)));
    HiveMetaStore.LOG.info("Started the loopback metastore on " + socket.getServerSocket().getLocalSocketAddress());
    server.serve();
  }

  private static void schedule(ScheduledExecutorService pool, Configuration conf, ConfVars names) throws Exception {
    for (String name : MetastoreConf.getStringCollection(conf, names)) {
      MetastoreTaskThread task = JavaUtils.newInstance(JavaUtils.getClass(name, MetastoreTaskThread.class));
      task.setConf(conf);
      long every = task.runFrequency(TimeUnit.MILLISECONDS);
      if (every > 0) {
        pool.scheduleAtFixedRate(task, every, every, TimeUnit.MILLISECONDS);
        HiveMetaStore.LOG.info("Scheduling for " + name);
      }
    }
  }
}
