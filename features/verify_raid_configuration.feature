@verify_raid
Feature: Verify RAID configuration
  Before you reimage a server, ensure the server's RAID configuration matches the default configuration
  required to restore factory settings (Recovery Tasks, task 1). The technician reads the logical drives
  in the Option ROM Configuration for Arrays Utility (ORCA); each scenario also reads the controller's
  own report (`g7sim ssacli`) to prove the screen tells the truth.

  @seed.tasks.1 @seed.verify.step1 @seed.verify.step2 @seed.verify.step3 @seed.verify.step4
  @seed.verify.rule_ok @seed.figure.1 @seed.figure.2
  Scenario Outline: <device type> <model>: <raid configuration>
    Given the <device type> <model> packaged server
    When I boot the device
    Then the HP ProLiant Power-On Self-Test (POST) begins
    When I press any key to view Option ROM messages
    And I press F8 to run the Option ROM Configuration for Arrays Utility
    Then the RAID BIOS Main Menu opens
    When I select View Logical Drive and press Enter
    Then the logical drives are listed as "<view logical drive>"
    And the RAID configuration matches the settings required for the device: "<raid configuration>"
    And no further configuration is needed: every required logical drive exists and its status is OK

    @seed.verify.row.ias_360g7_2 @libvirt
    Examples: Interaction Application Server 360 G7 2-Drive
      | device type                    | model          | raid configuration                                  | view logical drive                        |
      | Interaction Application Server | 360 G7 2-Drive | Single RAID 1+0 logical drive, consisting of 2 HDDs | Logical Drive # 1, RAID 1+0, 419.2 GB, OK |

    @seed.verify.row.ias_360g7_4
    Examples: Interaction Application Server 360 G7 4-Drive
      | device type                    | model          | raid configuration                                  | view logical drive                        |
      | Interaction Application Server | 360 G7 4-Drive | Single RAID 1+0 logical drive, consisting of 4 HDDs | Logical Drive # 1, RAID 1+0, 838.3 GB, OK |

    @seed.verify.row.ias_380g7
    Examples: Interaction Application Server 380 G7
      | device type                    | model  | raid configuration                                  | view logical drive                       |
      | Interaction Application Server | 380 G7 | Single RAID 1+0 logical drive, consisting of 8 HDDs | Logical Drive # 1, RAID 1+0, 1.64 TB, OK |

    @seed.verify.row.ims_medium
    Examples: Interaction Media Server Medium (360 G7)
      | device type              | model           | raid configuration                                  | view logical drive                        |
      | Interaction Media Server | Medium (360 G7) | Single RAID 1+0 logical drive, consisting of 2 HDDs | Logical Drive # 1, RAID 1+0, 419.2 GB, OK |

    @seed.verify.row.ims_large
    Examples: Interaction Media Server Large (360 G7)
      | device type              | model          | raid configuration                                  | view logical drive                        |
      | Interaction Media Server | Large (360 G7) | Single RAID 1+0 logical drive, consisting of 4 HDDs | Logical Drive # 1, RAID 1+0, 838.3 GB, OK |

    @seed.verify.row.cic_360g7
    Examples: Customer Interaction Center 360 G7 (Figure 2)
      | device type                 | model  | raid configuration                                  | view logical drive                        |
      | Customer Interaction Center | 360 G7 | Single RAID 1+0 logical drive, consisting of 4 HDDs | Logical Drive # 1, RAID 1+0, 838.3 GB, OK |

    @seed.verify.row.sql_380g7 @seed.verify.sql_rule_ok
    Examples: SQL Server 380 G7 (the seed's "RAID 140" is RAID 1+0)
      | device type | model  | raid configuration                                                                                   | view logical drive                                                                  |
      | SQL Server  | 380 G7 | One RAID 1+0 logical drive consisting of 2 HDDs, and one RAID 1+0 logical drive consisting of 6 HDDs | Logical Drive # 1, RAID 1+0, 419.2 GB, OK; Logical Drive # 2, RAID 1+0, 1.23 TB, OK |

  @seed.verify.step1 @doc_discrepancy
  Scenario Outline: <device type> <model>: RAID Configuration None
    Reason: the seed's step 2 ("press F8 to run Option ROM Configuration for Arrays Utility") cannot be
    followed on these models and the seed does not say so. The DL120 G7 has no Smart Array controller:
    its drive is a plain disk, POST shows no F8 prompt, and "None" means that no logical drive is
    required and none exists.

    Given the <device type> <model> packaged server
    When I boot the device
    Then the HP ProLiant Power-On Self-Test (POST) begins
    When I press any key to view Option ROM messages
    Then the Option ROM messages show no Smart Array controller and no prompt for F8
    And the server has no array controller and no logical drive

    @seed.verify.row.ias_120g7 @seed.redefine.row.ias_120g7
    Examples: Interaction Application Server 120 G7
      | device type                    | model  |
      | Interaction Application Server | 120 G7 |

    @seed.verify.row.ims_small @seed.redefine.row.ims_small
    Examples: Interaction Media Server Small (120 G7)
      | device type              | model          |
      | Interaction Media Server | Small (120 G7) |

  @seed.verify.rule_not_ok @seed.tasks.1
  Scenario: A failed drive leaves the logical drive's status not OK: the array must be deleted and recreated
    Given a Customer Interaction Center 360 G7 packaged server
    And the drive in bay 2 has failed
    When I boot the device
    And I press any key to view Option ROM messages
    Then "1787-Slot 0 Drive Array Operating in Interim Recovery Mode" appears
    When I press F8 to run the Option ROM Configuration for Arrays Utility
    And I select View Logical Drive and press Enter
    Then the logical drives are listed as "Logical Drive # 1, RAID 1+0, 838.3 GB, Interim Recovery Mode"
    And the RAID configuration does not match: the status of Logical Drive # 1 is not OK

  @seed.verify.rule_not_ok @seed.tasks.1
  Scenario: After every drive was replaced the required logical drive does not exist
    Given a Customer Interaction Center 360 G7 packaged server
    And every drive has been replaced with a new 450GB drive
    When I boot the device
    And I press any key to view Option ROM messages
    Then "1785-Slot 0 Drive Array Not Configured" appears
    When I press F8 to run the Option ROM Configuration for Arrays Utility
    And I select View Logical Drive and press Enter
    Then "There are no logical drives configured." appears
    And the RAID configuration does not match: the required logical drive does not exist

  @seed.verify.sql_rule_not_ok
  Scenario: One of the SQL Server's two logical drives is not OK: the array configuration must be recreated
    Given a SQL Server 380 G7 packaged server
    And the drive in bay 7 has failed
    When I boot the device
    And I press any key to view Option ROM messages
    And I press F8 to run the Option ROM Configuration for Arrays Utility
    And I select View Logical Drive and press Enter
    Then the logical drives are listed as "Logical Drive # 1, RAID 1+0, 419.2 GB, OK; Logical Drive # 2, RAID 1+0, 1.23 TB, Interim Recovery Mode"
    And the RAID configuration does not match: the status of Logical Drive # 2 is not OK

  @seed.verify.sql_rule_not_ok
  Scenario: After every drive of the SQL Server was replaced its two logical drives do not exist
    Given a SQL Server 380 G7 packaged server
    And every drive has been replaced with a new 450GB drive
    When I boot the device
    And I press any key to view Option ROM messages
    Then "1785-Slot 0 Drive Array Not Configured" appears
    When I press F8 to run the Option ROM Configuration for Arrays Utility
    And I select View Logical Drive and press Enter
    Then "There are no logical drives configured." appears
    And the RAID configuration does not match: the required logical drives do not exist

  @doc_discrepancy @seed.figure.1 @seed.figure.2 @seed.verify.step3
  Scenario: The RAID BIOS Main Menu of a server with one logical drive is Figure 1
    Reason: the seed asks for "Create alLogical Drive" (OCR of "Create a Logical Drive") and captions
    Figure 2 "View Logical Drives"; the P410i menu, like Figure 1, names them "Create Logical Drive"
    and "View Logical Drive". We show the menu of Figure 1.

    Given a Customer Interaction Center 360 G7 packaged server
    When I boot the device
    And I press any key to view Option ROM messages
    And I press F8 to run the Option ROM Configuration for Arrays Utility
    Then the screen is Figure 1
    And the RAID BIOS Main Menu lists exactly "Create Logical Drive, View Logical Drive, Delete Logical Drive, Manage License Keys, Cache Settings"
    When I select View Logical Drive and press Enter
    Then the screen is Figure 2

  @doc_discrepancy @seed.verify.row.sql_380g7 @seed.figure.1
  Scenario: The SQL Server's menu adds Select Boot Volume; its 2-drive "RAID 140" is RAID 1+0, which the CLI prints RAID 1
    Reason: (1) the seed's SQL rows read "RAID 140", OCR of "RAID 1+0"; (2) Figure 1 was taken on a
    server with one logical drive, and the P410i offers "Select Boot Volume" only when there are two
    or more; (3) a RAID 1+0 of two drives is a mirror, which ORCA shows as "RAID 1+0" like the seed,
    but the hpacucli 9.x report prints as "RAID 1".

    Given a SQL Server 380 G7 packaged server
    When I boot the device
    And I press any key to view Option ROM messages
    And I press F8 to run the Option ROM Configuration for Arrays Utility
    Then the RAID BIOS Main Menu lists exactly "Create Logical Drive, View Logical Drive, Delete Logical Drive, Select Boot Volume, Manage License Keys, Cache Settings"
    When I select View Logical Drive and press Enter
    Then the logical drives are listed as "Logical Drive # 1, RAID 1+0, 419.2 GB, OK; Logical Drive # 2, RAID 1+0, 1.23 TB, OK"
    And "RAID 140" appears nowhere on the console
    And the controller's report prints logical drive 1 as "419.2 GB, RAID 1, OK" and logical drive 2 as "1.23 TB, RAID 1+0, OK"
