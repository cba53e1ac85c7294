"""Word pools for the synthetic cases: network-helpdesk vocabulary in English and Chinese.

Ordinary cases draw from the common pools; the rare pools are kept for the
signatures planted in the few cases that a query expects.
"""

# (English, Chinese) pairs: what broke, how it looked, where, why, what fixed it.
SUBJECTS = [
    ("VPN", "VPN"),
    ("printer", "打印机"),
    ("Wi-Fi", "无线网络"),
    ("email", "邮箱"),
    ("file share", "共享盘"),
    ("video meeting", "视频会议"),
    ("ERP", "ERP 系统"),
    ("softphone", "软电话"),
    ("barcode scanner", "扫码枪"),
    ("NAS", "NAS 存储"),
    ("remote desktop", "远程桌面"),
    ("intranet portal", "内网门户"),
    ("OA system", "OA 系统"),
    ("security camera", "监控摄像头"),
    ("POS terminal", "收银机"),
    ("guest Wi-Fi", "访客无线"),
    ("web browser", "浏览器"),
    ("cloud drive", "网盘"),
    ("SSH session", "SSH 会话"),
    ("FTP transfer", "FTP 传输"),
]
SYMPTOMS = [
    ("keeps disconnecting", "频繁断线"),
    ("is very slow", "速度很慢"),
    ("cannot connect", "连不上"),
    ("login page keeps spinning", "登录页面一直转圈"),
    ("times out", "访问超时"),
    ("cannot open", "打不开"),
    ("drops every few minutes", "每隔几分钟掉线"),
    ("has high latency", "延迟很高"),
    ("loses packets", "严重丢包"),
    ("gets no IP address", "获取不到地址"),
    ("shows a certificate warning", "提示证书错误"),
    ("cannot resolve the name", "域名解析失败"),
    ("uploads crawl", "上传特别慢"),
    ("downloads stall halfway", "下载到一半卡住"),
    ("freezes during calls", "通话时画面卡顿"),
    ("asks for the password again", "反复要求输入密码"),
]
CITIES = [
    ("Hangzhou", "杭州", "hz"),
    ("Suzhou", "苏州", "sz"),
    ("Ningbo", "宁波", "nb"),
    ("Shenzhen", "深圳", "sh"),
    ("Chengdu", "成都", "cd"),
    ("Wuhan", "武汉", "wh"),
    ("Xiamen", "厦门", "xm"),
    ("Qingdao", "青岛", "qd"),
    ("Nanjing", "南京", "nj"),
    ("Hefei", "合肥", "hf"),
    ("Tianjin", "天津", "tj"),
    ("Dalian", "大连", "dl"),
    ("Kunming", "昆明", "km"),
    ("Changsha", "长沙", "cs"),
    ("Fuzhou", "福州", "fz"),
    ("Jinan", "济南", "jn"),
    ("Guangzhou", "广州", "gz"),
    ("Beijing", "北京", "bj"),
    ("Shanghai", "上海", "sha"),
    ("Wuxi", "无锡", "wx"),
]
PLACES = [
    ("warehouse", "仓库"),
    ("head office", "总部"),
    ("branch office", "分公司"),
    ("factory", "工厂"),
    ("store", "门店"),
    ("server room", "机房"),
    ("test lab", "实验室"),
    ("meeting room", "会议室"),
    ("front desk", "前台"),
    ("finance department", "财务部"),
    ("call centre", "客服中心"),
    ("design studio", "设计部"),
]
ISPS = [
    ("China Telecom", "电信"),
    ("China Unicom", "联通"),
    ("China Mobile", "移动"),
    ("a leased MPLS line", "专线"),
]
CAUSES = [
    ("an AP firmware bug that ignores roaming hints", "AP 固件缺陷，忽略漫游建议"),
    ("a wrong MTU on the PPPoE interface", "PPPoE 接口 MTU 配置错误"),
    ("an exhausted DHCP pool", "DHCP 地址池耗尽"),
    ("a duplicate IP address on the segment", "网段内 IP 地址冲突"),
    ("the ISP's congested international link", "运营商国际出口拥塞"),
    ("an expired server certificate", "服务器证书过期"),
    ("a stale DNS answer cached on the laptop", "笔记本缓存了过期的 DNS 解析"),
    ("a loop through an unmanaged switch", "傻瓜交换机造成环路"),
    ("a port stuck in half duplex", "交换机端口工作在半双工"),
    ("a failing fibre transceiver", "光模块老化故障"),
    ("a full session table on the firewall", "防火墙会话表已满"),
    ("a PAC file pointing at a dead proxy", "PAC 文件指向失效的代理"),
    ("a wrong default gateway", "默认网关配置错误"),
    ("co-channel interference from a neighbour's AP", "邻居 AP 同信道干扰"),
    ("an asymmetric route through the backup line", "备用线路造成路由不对称"),
    ("the NTP client not syncing", "NTP 客户端没有同步时间"),
    ("a broken IPv6 path upstream", "上游 IPv6 路径不通"),
    ("a QoS policy throttling the wrong class", "QoS 策略限速了错误的流量类别"),
]
FIXES = [
    ("moved the user to the Unicom line", "把用户切换到联通线路"),
    ("set the MSS clamp to 1452", "把 MSS 钳制设为 1452"),
    ("shortened the DHCP lease to 4 hours", "把 DHCP 租期缩短到 4 小时"),
    ("replaced the transceiver", "更换了光模块"),
    ("renewed the certificate", "更新了证书"),
    ("flushed the DNS cache", "清除了 DNS 缓存"),
    ("moved the AP to channel 36", "把 AP 信道改到 36"),
    ("upgraded the AP firmware", "升级了 AP 固件"),
    ("fixed the port at full duplex", "把端口固定为全双工"),
    ("enabled STP on the access switch", "在接入交换机上开启 STP"),
    ("added a static route for the subnet", "为该网段添加了静态路由"),
    ("raised the firewall session limit", "调大了防火墙会话数上限"),
    ("restarted the transfer after reconnecting", "重连后重新开始传输"),
    ("corrected the gateway in the DHCP options", "修正了 DHCP 选项里的网关"),
]
PREVENTIONS = [
    (
        "Add the site to the per-line latency probes so a degraded line shows up "
        "before users call",
        "把该站点加入分线路延迟监控，线路变差能先于用户报障发现",
    ),
    (
        "Keep a record of which users were moved so they can be moved back later",
        "记录被切换线路的用户，方便以后切回",
    ),
    (
        "Alert when the DHCP pool is more than 90% used",
        "DHCP 地址池使用率超过 90% 时告警",
    ),
    (
        "Check certificate expiry dates every week from the monitoring server",
        "每周由监控服务器检查证书到期时间",
    ),
    (
        "Write the MTU and MSS settings into the site's gateway template",
        "把 MTU 和 MSS 设置写进站点网关模板",
    ),
    (
        "Survey the channels again after a neighbour moves in",
        "有新邻居入驻后重新做一次信道勘测",
    ),
]
# Paragraph templates: (English, Chinese), filled from a case's facts.
SYMPTOM_STORIES = [
    (
        "Users at the {city} {place} report that the {subject} {symptom}. It "
        "started this week and gets worse in the afternoon.",
        "{city_zh}{place_zh}的同事反映{subject_zh}{symptom_zh}，这周开始出现，"
        "下午更严重。",
    ),
    (
        "Since Monday the {subject} {symptom} for about a dozen people at the "
        "{city} {place}; others on the same floor are fine.",
        "从周一开始，{city_zh}{place_zh}有十几个人{subject_zh}{symptom_zh}，"
        "同一层的其他人正常。",
    ),
    (
        "A ticket from the {city} {place}: the {subject} {symptom}, mostly after "
        "lunch, and restarting the laptop does not help.",
        "{city_zh}{place_zh}报障：{subject_zh}{symptom_zh}，多在午饭后出现，"
        "重启电脑也没用。",
    ),
    (
        "The {subject} {symptom} whenever someone at the {city} {place} works from "
        "the far end of the room.",
        "{city_zh}{place_zh}的人只要坐到房间另一头，{subject_zh}就{symptom_zh}。",
    ),
]
ANALYSIS_STORIES = [
    (
        "From {host} we measured {loss}% loss and {rtt} ms to {ip}, while {peer} "
        "on the same switch answered normally.",
        "在 {host} 上测试，到 {ip} 丢包 {loss}%，延迟 {rtt} 毫秒；同一交换机下的 "
        "{peer} 正常。",
    ),
    (
        "{domain} resolves to the same addresses through {dns} and the public "
        "resolver, so the name service is not the problem.",
        "{domain} 通过 {dns} 和公共 DNS 查询结果一致，排除域名服务的问题。",
    ),
    (
        "The transfer stayed near {rate} KB/s until the client reconnected; the "
        'log on {host} showed "{error}".',
        '传输一直停在 {rate} KB/s 左右，重连后才恢复；{host} 的日志显示 "{error}"。',
    ),
    (
        "A capture on {host} showed retransmissions towards {ip} and no answer "
        "for several seconds at a time.",
        "在 {host} 上抓包，发往 {ip} 的报文大量重传，每次都要等几秒才有回应。",
    ),
    (
        "The switch port of {peer} counted input errors, and the interface "
        "graphs of {host} showed a drop at the same minutes.",
        "{peer} 所在交换机端口有输入错误计数，{host} 的接口流量图在同一时间点有断崖。",
    ),
]
CAUSE_STORIES = [
    ("The cause was {cause}.", "根因是{cause_zh}。"),
    ("It came down to {cause}.", "最终确认是{cause_zh}。"),
    (
        "Nothing had changed on our side; the fault was {cause}.",
        "我方配置没有变化，问题出在{cause_zh}。",
    ),
]
FIX_STORIES = [
    (
        "We {fix} and asked the users to retry; it has held since.",
        "{fix_zh}，让用户重试，之后一直正常。",
    ),
    (
        "We {fix}; the {subject} has worked since and the ticket was closed.",
        "{fix_zh}后{subject_zh}恢复正常，工单关闭。",
    ),
    (
        "As a stop-gap we {fix}, then told the users what had changed.",
        "临时处理：{fix_zh}，并告知用户做了哪些变更。",
    ),
]
ERRORS = [
    "connection reset by peer",
    "No route to host",
    "Temporary failure in name resolution",
    "ERR_CONNECTION_TIMED_OUT",
    "ERR_NAME_NOT_RESOLVED",
    "Destination Host Unreachable",
    "Request timed out",
    "NT_STATUS_IO_TIMEOUT",
    "SSL_ERROR_SYSCALL",
    "HTTP 403 Forbidden",
    "TLS handshake timeout",
    "SERVFAIL",
    "The remote computer did not respond",
    "RADIUS Access-Reject",
]
COMMANDS = [
    "ping -c 20 {ip}",
    "mtr -rwc 50 {ip}",
    "traceroute -n {ip}",
    "nslookup {domain} {dns}",
    "dig @{dns} {domain} +short",
    "curl -sv https://{domain}/ -o /dev/null",
    "ip route get {ip}",
    "tcpdump -ni eth0 host {ip}",
    "iperf3 -c {ip} -t 30",
    "ipconfig /flushdns",
    "netsh wlan show interfaces",
    "display arp | include {ip}",
    "show interfaces status",
    "arping -c 3 {ip}",
]
COMPANIES = ["huaxin", "dingtai", "jinyuan", "ruifeng", "kangda", "mingtai", "tianrui"]
SERVICES = ["oa", "mail", "erp", "vpn", "portal", "files", "wiki", "crm", "git", "hr"]
TLDS = ["com", "com.cn", "cn", "net"]
ROLES = ["core-sw", "acc-sw", "ap", "fw", "gw", "nas", "prn", "srv"]
TAGS = [
    "wifi",
    "vpn",
    "dns",
    "dhcp",
    "mtu",
    "isp",
    "uplink",
    "multi-wan",
    "printer",
    "email",
    "tls",
    "proxy",
    "roaming",
    "packet-loss",
    "latency",
    "throughput",
    "firewall",
    "switch",
    "ipv6",
    "ntp",
]
COMMON_QUERIES = [
    "dns timeout",
    "wifi slow",
    "网络很慢",
    "VPN 断线",
    "packet loss latency",
    "打印机 连不上",
    "DHCP",
    "无线网络 频繁断线",
    "certificate",
    "电信 联通 切换线路",
]

# Planted signatures; none of these is drawn for an ordinary case.
RARE_PLACES_ZH = [
    "西溪大厦",
    "望京科技园",
    "锦绣广场",
    "紫金港园区",
    "梅溪湖中心",
    "光谷软件园",
    "前海湾大厦",
    "张江药谷",
    "漕河泾园区",
    "五道口大厦",
    "雁塔中心",
    "天府三街广场",
    "鼓楼花园",
    "钱江世纪城",
    "金鸡湖大厦",
    "白云山庄",
]
RARE_ERRORS = [
    "nf_conntrack: table full, dropping packet",
    "IPv6 duplicate address detected on wlan0",
    "received packet with own address as source address",
    "unable to get local issuer certificate",
    "ICMP fragmentation needed and DF set",
    "port-security violation, shutting down interface",
    "BGP neighbor down, hold time expired",
    "clock skew too great, Kerberos ticket rejected",
]
# (what the case runs, what an engineer types to find it)
RARE_COMMANDS = [
    ("ethtool -K eth0 gro off", "ethtool gro off"),
    ("sysctl -w net.ipv4.tcp_no_metrics_save=1", "tcp_no_metrics_save"),
    ("nmcli connection modify office ipv6.method ignore", "nmcli ipv6.method ignore"),
    ("iw dev wlan0 set power_save off", "iw power_save off"),
    ("resolvectl flush-caches", "resolvectl flush-caches"),
    ("netsh winsock reset", "netsh winsock reset"),
    ("ip link set dev ppp0 mtu 1452", "ppp0 mtu 1452"),
    ("chronyc makestep", "chronyc makestep"),
]
